import Foundation

/// A `model_name` with `*` wildcards, such as `claude-*` or `*`. A `*` matches any run of characters,
/// and the whole name must match.
struct ModelPattern: Sendable {
    let text: String
    private let literals: [Substring]

    init(_ text: String) {
        self.text = text
        self.literals = text.split(separator: "*", omittingEmptySubsequences: false)
    }

    /// More literal characters means more specific: `claude-opus-*` beats `claude-*` beats `*`.
    var specificity: Int { self.literals.reduce(0) { $0 + $1.count } }

    /// What each `*` matched, or nil when `name` does not match.
    func match(_ name: String) -> [Substring]? {
        var rest = Substring(name)
        guard rest.hasPrefix(self.literals[0]) else { return nil }
        rest = rest.dropFirst(self.literals[0].count)
        var captures: [Substring] = []
        for (offset, literal) in self.literals.dropFirst().enumerated() {
            let isLast = offset == self.literals.count - 2
            if isLast {
                guard rest.hasSuffix(literal), rest.count >= literal.count else { return nil }
                captures.append(rest.dropLast(literal.count))
                rest = rest.suffix(0)
            } else if literal.isEmpty {
                captures.append(rest.prefix(0))  // `**`: the first star takes nothing
            } else {
                guard let found = rest.range(of: literal) else { return nil }
                captures.append(rest[..<found.lowerBound])
                rest = rest[found.upperBound...]
            }
        }
        return captures
    }

    /// Fills each `*` of `template` with the next capture, as LiteLLM does for `gemini/*`.
    static func substitute(_ captures: [Substring], into template: String) -> String {
        guard template.contains("*") else { return template }
        var output = ""
        var remaining = captures[...]
        for character in template {
            if character == "*", let capture = remaining.popFirst() {
                output += capture
            } else {
                output.append(character)
            }
        }
        return output
    }
}
