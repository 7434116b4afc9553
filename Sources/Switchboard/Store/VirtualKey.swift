import Crypto

/// A virtual key: `sk-` and 32 random base-62 characters, shown once when made and stored only as its
/// SHA-256 (hex), as LiteLLM stores its keys, so a copy of the database grants nothing.
enum VirtualKey {
    /// A new key, from the system's secure random source.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<32).map { _ in Identifiers.alphabet[Int(generator.next(upperBound: UInt8(62)))] }
        return "sk-" + String(decoding: characters, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// What the store keeps and looks keys up by (hex SHA-256, from swift-crypto: Telemetry's SHA256 is not
    /// for secrets).
    static func hash(_ key: String) -> String {
        var hex: [UInt8] = []
        for byte in SHA256.hash(data: Array(key.utf8)) {
            hex.append(Self.hexDigits[Int(byte >> 4)])
            hex.append(Self.hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// The key as people may see it in lists and logs: `sk-...` and its last four characters (LiteLLM's
    /// `key_name`).
    static func displayName(_ key: String) -> String {
        "sk-..." + key.suffix(4)
    }
}
