import Telemetry

/// Ids in Anthropic's shapes: `msg_…`, `toolu_…` and `srvtoolu_…`, 24 random base-62 characters.
enum Identifiers {
    /// The 62 letters and digits ids are made of (also Mistral's tool ids and virtual keys).
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func message() -> String { "msg_" + random(24) }
    static func toolUse() -> String { "toolu_" + random(24) }
    static func serverToolUse() -> String { "srvtoolu_" + random(24) }

    /// Ten base-62 digits per 64 random bits.
    private static func random(_ count: Int) -> String {
        var generator = PooledRandomGenerator()
        var characters: [UInt8] = []
        characters.reserveCapacity(count)
        var word: UInt64 = 0
        for position in 0..<count {
            if position % 10 == 0 { word = generator.next() }
            characters.append(alphabet[Int(word % 62)])
            word /= 62
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
