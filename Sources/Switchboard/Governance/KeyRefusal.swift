/// Why a request's key was refused, for metrics: the error the client sees, and how to count it.
public struct KeyRefusal: Error, Sendable {
    public enum Kind: Sendable, Hashable {
        /// A 401: `missing`, `invalid`, `expired`, `blocked`, `team_blocked`.
        case authentication(reason: String)
        /// A 403 or 429 from a key's or team's limit: `model`, `budget`, `rpm`, `tpm`, `parallel`.
        case limit(scope: String, kind: String)
    }

    public let kind: Kind
    public let error: AnthropicError
}
