import Synchronization

/// Keeps a label's values bounded: the first `limit` distinct values pass, later new ones become `other`.
/// Clients choose model names (through wildcard routes) and administrators choose key aliases, so neither
/// may grow a metric's series without end.
final class BoundedLabel: Sendable {
    let limit: Int
    private let seen = Mutex<Set<String>>([])

    init(limit: Int) {
        self.limit = limit
    }

    /// `value`, or `other` once `limit` other values have been seen.
    func callAsFunction(_ value: String) -> String {
        self.seen.withLock { seen in
            if seen.contains(value) { return value }
            guard seen.count < self.limit else { return "other" }
            seen.insert(value)
            return value
        }
    }
}
