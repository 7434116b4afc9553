import Foundation

/// Carries Gemini 3 thought signatures through Claude Code, which echoes only `tool_use` ids.
///
/// A signature rides inside the tool-use id it belongs to — `toolu_<random>__sig_<base64url of the
/// signature's bytes>`, within Anthropic's id alphabet `[A-Za-z0-9_-]` — and comes back byte-exact.
/// Nothing is kept on the side: an id that comes back unchanged carries its signature, and a cache
/// keyed by id could not help a client that changed it.
struct ThoughtSignatures: Sendable {
    /// The value Gemini documents for calls whose signature is unknown (history from elsewhere).
    static let dummy = "skip_thought_signature_validator"
    private static let marker = "__sig_"

    /// A new tool-use id, carrying `signature` when there is one.
    func mintToolUseID(signature: String?) -> String {
        let base = Identifiers.toolUse()
        guard let signature else { return base }
        return base + Self.marker + Self.base64URL(Data(signature.utf8))
    }

    /// The signature `toolUseID` carries, if any.
    func signature(for toolUseID: String) -> String? {
        guard let range = toolUseID.range(of: Self.marker),
            let data = Self.decodeBase64URL(String(toolUseID[range.upperBound...]))
        else { return nil }
        return String(data: data, encoding: .utf8)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
