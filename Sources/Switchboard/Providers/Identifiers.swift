/// Ids in Anthropic's shapes: `msg_…` and `toolu_…`, 24 random base-62 characters.
enum Identifiers {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    static func message() -> String { "msg_" + random(24) }
    static func toolUse() -> String { "toolu_" + random(24) }

    private static func random(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
