import Synchronization

/// The requests in flight now, for gauges read at scrape time.
public final class LiveExchanges: Sendable {
    private let exchanges = Mutex<[ObjectIdentifier: Exchange]>([:])

    public init() {}

    func begin(_ exchange: Exchange) {
        self.exchanges.withLock { $0[ObjectIdentifier(exchange)] = exchange }
    }

    func end(_ exchange: Exchange) {
        _ = self.exchanges.withLock { $0.removeValue(forKey: ObjectIdentifier(exchange)) }
    }

    /// Requests in flight, and how many of them are streams.
    public var counts: (requests: Int, streams: Int) {
        let live = self.exchanges.withLock { Array($0.values) }
        return (live.count, live.filter { $0.record.isStreaming }.count)
    }
}
