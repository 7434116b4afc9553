/// Tool-call ids between Anthropic and an OpenAI-compatible service.
///
/// An id goes upstream as it is when the service takes it; otherwise (Mistral takes only nine letters
/// and digits) it becomes a digest of itself, the same every time, so a conversation's calls and their
/// results keep matching on every turn and the upstream's prefix cache keeps hitting.
enum ToolCallIDs {
    enum Style: Sendable {
        case any
        case nineAlphanumerics
    }

    static func upstream(_ id: String, style: Style) -> String {
        switch style {
        case .any:
            return id
        case .nineAlphanumerics:
            if id.utf8.count == 9, id.utf8.allSatisfy(Self.isAlphanumeric) { return id }
            // FNV-1a, 64 bits: nine base-62 digits keep 53 of them, plenty for one conversation's calls.
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in id.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x100_0000_01b3
            }
            var digits: [UInt8] = []
            for _ in 0..<9 {
                digits.append(Identifiers.alphabet[Int(hash % 62)])
                hash /= 62
            }
            return String(decoding: digits, as: UTF8.self)
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        Identifiers.alphabet.contains(byte)
    }
}
