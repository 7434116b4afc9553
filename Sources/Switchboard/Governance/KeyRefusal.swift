/// Why a request's key was refused, for metrics: the error the client sees, and how to count it.
public struct KeyRefusal: Error, Sendable {
    public enum Kind: Sendable, Hashable {
        /// A 401: `missing`, `invalid`, `expired`, `blocked`, `team_blocked`.
        case authentication(reason: String)
        /// A 403 or 429 from a key's, team's or the gateway's limit: `model`, `budget`, `rpm`, `tpm`,
        /// `parallel`. `key` names the key refused, for the access log; nil for the master key.
        case limit(scope: String, kind: String, key: KeyLabel? = nil)
    }

    public var kind: Kind
    public let error: AnthropicError

    /// This refusal, naming `identity` as the key refused.
    func naming(_ identity: KeyLabel) -> KeyRefusal {
        guard case .limit(let scope, let kind, nil) = self.kind else { return self }
        var named = self
        named.kind = .limit(scope: scope, kind: kind, key: identity)
        return named
    }
}

/// A virtual key by name: its alias (else its `sk-...abcd` name) and team; never the key.
public struct KeyLabel: Sendable, Hashable {
    public let alias: String
    public let teamID: String?
}
