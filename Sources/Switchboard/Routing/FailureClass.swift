/// What kind of failure an attempt ended in, as far as retrying, falling back and cooling down go.
/// The classes are LiteLLM's (`RateLimitErrorRetries`, `InternalServerErrorAllowedFails`, …), so its
/// `retry_policy` and `allowed_fails_policy` keys mean the same here.
public enum FailureClass: String, Sendable, CaseIterable, Hashable {
    /// 429: `RateLimitError`.
    case rateLimit = "rate_limit"
    /// 500, 502, 503, 529, a broken connection or stream, an unreadable answer: `InternalServerError`.
    case serverError = "server_error"
    /// 504, a transport timeout, `stream_timeout`: `TimeoutError`.
    case timeout
    /// 401, 403: `AuthenticationError` — this deployment's key; another deployment's may work.
    case authentication
    /// Any other 4xx: the request itself is wrong, and would be wrong anywhere. Never retried.
    case badRequest = "bad_request"
    /// The prompt is too long for the model: `ContextWindowExceededError`.
    case contextWindow = "context_window"
    /// A safety block or refusal: `ContentPolicyViolationError`.
    case contentPolicy = "content_policy"
    /// Every deployment of the group is cooling down or at capacity: no attempt was made.
    case unavailable

    /// Retried by default (`num_retries`).
    var isRetryable: Bool {
        switch self {
        case .rateLimit, .serverError, .timeout: true
        default: false
        }
    }

    /// Whether a `retry_policy` entry may make this class retryable: never for a request that would fail
    /// the same way anywhere.
    var mayRetry: Bool {
        switch self {
        case .badRequest, .contextWindow, .unavailable: false
        default: true
        }
    }

    /// Whether a failure of this class counts against the deployment (`allowed_fails`): the client's own
    /// mistakes do not.
    var countsAgainstDeployment: Bool {
        switch self {
        case .rateLimit, .serverError, .timeout, .authentication: true
        case .badRequest, .contextWindow, .contentPolicy, .unavailable: false
        }
    }

    /// LiteLLM's name for the class in `retry_policy` (`…Retries`) and `allowed_fails_policy` (`…AllowedFails`).
    static func fromPolicyKey(_ key: String, suffix: String) -> FailureClass? {
        guard key.hasSuffix(suffix) else { return nil }
        switch key.dropLast(suffix.count) {
        case "RateLimitError": return .rateLimit
        case "InternalServerError": return .serverError
        case "TimeoutError": return .timeout
        case "AuthenticationError": return .authentication
        case "BadRequestError": return .badRequest
        case "ContentPolicyViolationError": return .contentPolicy
        case "ContextWindowExceededError": return .contextWindow
        default: return nil
        }
    }
}
