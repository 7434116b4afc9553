import Crypto

/// A virtual key: `sk-` and 32 random base-62 characters, shown once when made and stored only as its
/// SHA-256 (hex), as LiteLLM stores its keys, so a copy of the database grants nothing.
enum VirtualKey {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A new key, from the system's secure random source.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<32).map { _ in Self.alphabet[Int(generator.next(upperBound: UInt8(62)))] }
        return "sk-" + String(decoding: characters, as: UTF8.self)
    }

    /// What the store keeps and looks keys up by.
    static func hash(_ key: String) -> String {
        SHA256.hash(data: Array(key.utf8)).map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]], as: UTF8.self)
        }.joined()
    }

    /// The key as people may see it in lists and logs: `sk-...` and its last four characters (LiteLLM's
    /// `key_name`).
    static func displayName(_ key: String) -> String {
        "sk-..." + key.suffix(4)
    }
}
