import Upstream

extension AnthropicError {
    /// What a client sees when the gateway could not get an answer from `provider`.
    ///
    /// 5xx, so Claude Code and the SDKs retry; the message says which hop failed and curl's reason,
    /// which carries host names but never keys.
    init(upstream error: UpstreamError, provider: String) {
        switch error.kind {
        case .timeout:
            self.init(status: 504, type: "timeout_error", message: "\(provider) upstream timed out: \(error.message)")
        case .shutDown:
            self.init(status: 529, type: "overloaded_error", message: "the gateway is shutting down")
        default:
            self.init(
                status: 502,
                type: "api_error",
                message: "\(provider) upstream unreachable (\(error.kind)): \(error.message)"
            )
        }
    }

    /// The one mapping from an upstream's HTTP status to the error Anthropic's clients expect for it:
    /// 429 → `rate_limit_error` (with `retry-after`), 503 → 529 `overloaded_error`, 504 → `timeout_error`,
    /// other 4xx → their Anthropic type, other 5xx → `api_error`. Every provider's errors, in a status
    /// line or inside a stream, pass through here.
    init(upstreamStatus status: Int, message: String, retryAfterSeconds: String? = nil) {
        switch status {
        case 429:
            self.init(
                status: 429,
                type: "rate_limit_error",
                message: message,
                headers: retryAfterSeconds.map { ["retry-after": $0] } ?? [:]
            )
        case 503, 529:
            self.init(status: 529, type: "overloaded_error", message: message)
        case 504:
            self.init(status: 504, type: "timeout_error", message: message)
        case 400..<500:
            self.init(status: status, type: AnthropicError.type(forStatus: status), message: message)
        default:
            self.init(status: status >= 500 ? status : 502, type: "api_error", message: message)
        }
    }
}
