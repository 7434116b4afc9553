import Foundation

/// How often a budget starts again: LiteLLM's `budget_duration` (`30s`, `30m`, `1h`, `1d`, `7d`, `30d`, and
/// `1mo` for a calendar month).
enum BudgetDuration: Sendable, Hashable, CustomStringConvertible {
    case seconds(Int)
    /// Calendar months, reset on the same day of the month (or its last day), in UTC.
    case months(Int)

    /// Nil for anything else, so the admin API can name the field it refuses.
    init?(_ text: String) {
        let digits = text.prefix { $0.isNumber }
        guard let count = Int(digits), count > 0, count <= 100_000 else { return nil }
        switch text.dropFirst(digits.count) {
        case "s": self = .seconds(count)
        case "m": self = .seconds(count * 60)
        case "h": self = .seconds(count * 3_600)
        case "d": self = .seconds(count * 86_400)
        case "mo": self = .months(count)
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .months(let count): return "\(count)mo"
        case .seconds(let seconds):
            for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] where seconds % size == 0 {
                return "\(seconds / size)\(unit)"
            }
            return "\(seconds)s"
        }
    }

    /// When a budget that (re)started at `start` starts again.
    func nextReset(after start: Date) -> Date {
        switch self {
        case .seconds(let seconds):
            return start.addingTimeInterval(TimeInterval(seconds))
        case .months(let count):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            return calendar.date(byAdding: .month, value: count, to: start)!
        }
    }
}
