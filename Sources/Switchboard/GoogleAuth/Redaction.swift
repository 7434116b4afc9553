import Foundation

/// Takes secrets out of text that reaches a person (an error message, a log line): the exchange's own
/// secrets verbatim, and anything shaped like a Google access token (`ya29.…`).
enum Redaction {
    static let placeholder = "[redacted]"

    static func redact(_ text: String, _ secrets: [String]) -> String {
        var text = text
        for secret in secrets where secret.count >= 4 {
            text = text.replacingOccurrences(of: secret, with: Self.placeholder)
        }
        while let start = text.range(of: "ya29.") {
            let end =
                text[start.upperBound...].firstIndex { $0.isWhitespace || $0 == "\"" || $0 == "," } ?? text.endIndex
            text.replaceSubrange(start.lowerBound..<end, with: Self.placeholder)
        }
        return text
    }
}
