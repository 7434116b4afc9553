import Foundation

/// A `fake:NAME rest-of-line` instruction in a prompt, which scripts what a fake upstream answers; the
/// first one counts.
struct FakeDirective {
    let name: String
    /// The rest of the line after the name, trimmed.
    let argument: String

    init?(in text: String) {
        guard let marker = text.range(of: "fake:") else { return nil }
        let after = text[marker.upperBound...]
        let name = after.prefix { $0.isLetter || $0 == "-" }
        guard !name.isEmpty else { return nil }
        self.name = String(name)
        self.argument = after[name.endIndex...].prefix { !$0.isNewline }.trimmingCharacters(in: .whitespaces)
    }

    /// The first word of the argument, cut before any `{`: a function name, a status code, seconds.
    var firstWord: String? {
        guard let word = self.argument.split(whereSeparator: \.isWhitespace).first?.prefix(while: { $0 != "{" }), !word.isEmpty else {
            return nil
        }
        return String(word)
    }

    /// The JSON object in the argument (`fake:call NAME {…}`), up to its balancing brace.
    var jsonObject: [String: Any]? {
        guard let start = self.argument.firstIndex(of: "{") else { return nil }
        var depth = 0
        var inString = false
        var escaped = false
        for index in self.argument[start...].indices {
            let character = self.argument[index]
            if inString {
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
            } else if character == "\"" {
                inString = true
            } else if character == "{" {
                depth += 1
            } else if character == "}" {
                depth -= 1
                if depth == 0 {
                    let json = Data(self.argument[start...index].utf8)
                    return (try? JSONSerialization.jsonObject(with: json)) as? [String: Any]
                }
            }
        }
        return nil
    }
}
