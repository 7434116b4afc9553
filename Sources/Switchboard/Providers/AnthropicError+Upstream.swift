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
}
