import Foundation
import Synchronization

/// Carries Gemini 3 thought signatures through Claude Code, which echoes only `tool_use` ids.
///
/// A signature rides inside the tool-use id it belongs to — `toolu_<random>__sig_<base64url of the
/// signature's bytes>`, within Anthropic's id alphabet `[A-Za-z0-9_-]` — and comes back byte-exact.
/// A bounded cache keyed by tool-use id backs it up, for clients that rewrite ids.
final class ThoughtSignatures: Sendable {
    /// The value Gemini documents for calls whose signature is unknown (history from elsewhere).
    static let dummy = "skip_thought_signature_validator"
    private static let marker = "__sig_"

    private struct Cache {
        var signatures: [String: String] = [:]
        var order: [String] = []
        var oldest = 0
    }

    private let capacity: Int
    private let cache = Mutex(Cache())

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// A new tool-use id, carrying `signature` when there is one.
    func mintToolUseID(signature: String?) -> String {
        let base = Identifiers.toolUse()
        guard let signature else { return base }
        let id = base + Self.marker + Self.base64URL(Data(signature.utf8))
        self.remember(signature, for: id)
        return id
    }

    /// The signature for `toolUseID`: from the id itself, else from the cache.
    func signature(for toolUseID: String) -> String? {
        if let range = toolUseID.range(of: Self.marker),
            let data = Self.decodeBase64URL(String(toolUseID[range.upperBound...])),
            let signature = String(data: data, encoding: .utf8)
        {
            return signature
        }
        return self.cache.withLock { $0.signatures[toolUseID] }
    }

    private func remember(_ signature: String, for id: String) {
        self.cache.withLock { cache in
            cache.signatures[id] = signature
            cache.order.append(id)
            if cache.order.count - cache.oldest > self.capacity {
                cache.signatures.removeValue(forKey: cache.order[cache.oldest])
                cache.oldest += 1
                if cache.oldest > self.capacity {  // compact now and then, not on every insert
                    cache.order.removeFirst(cache.oldest)
                    cache.oldest = 0
                }
            }
        }
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
