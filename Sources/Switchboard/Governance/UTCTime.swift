import Foundation

/// The admin API's times: RFC 3339 timestamps in UTC (`2026-05-29T20:26:40Z`) and `YYYY-MM-DD` days.
/// Format styles are values, so there is no formatter to build per call or to share across threads.
enum UTCTime {
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// The start (00:00 UTC) of the day `text` names; nil unless it is a real `YYYY-MM-DD` date.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else {
            return nil
        }
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: Self.calendar) else { return nil }
        return Self.calendar.date(from: components)
    }

    /// The start (00:00 UTC) of `date`'s day.
    static func dayStart(_ date: Date) -> Date {
        Self.calendar.startOfDay(for: date)
    }

    private static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }
}
