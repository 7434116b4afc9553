import Upstream

/// How one attempt failed, as the router needs it: the class that decides retry, fallback and cooldown,
/// when the upstream said to come back, and the error the client sees if no other attempt succeeds.
struct AttemptFailure: Error, Sendable {
    let kind: FailureClass
    let error: AnthropicError
    /// The upstream's `Retry-After` (or Gemini's `RetryInfo`), when it sent one.
    let retryAfter: Duration?

    init(kind: FailureClass, error: AnthropicError, retryAfter: Duration? = nil) {
        self.kind = kind
        self.error = error
        self.retryAfter = retryAfter
    }

    /// Classifies the error an attempt ended in. Every provider's failures reach the client as Anthropic
    /// errors (``AnthropicError(upstreamStatus:message:retryAfterSeconds:)`` is the one mapping), so the
    /// class is read off the Anthropic status and type.
    init(_ error: AnthropicError) {
        let retryAfter = error.headers["retry-after"].flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) }
        let kind: FailureClass =
            switch error.statusCode {
            case 429: .rateLimit
            case 401, 403: .authentication
            case 400 where error.message.hasPrefix("prompt is too long"): .contextWindow
            case 408, 504: .timeout
            case 400..<500: .badRequest
            default: error.type == "timeout_error" ? .timeout : .serverError
            }
        self.init(kind: kind, error: error, retryAfter: retryAfter)
    }
}

extension AnthropicError {
    /// The error a client sees for what broke off an upstream's answer, and the failure kind the attempt
    /// records for it (`stream_broken`, `stream_overloaded_error`, a transport kind).
    static func readingAnswer(failedWith error: any Error, provider: String) -> (error: AnthropicError, kind: String) {
        switch error {
        case let reported as UpstreamReportedError:
            return (reported.error, reported.kind)
        case let transport as UpstreamError:
            let kind = transport.kind == .connectionReset ? "stream_broken" : transport.kind.description
            return (AnthropicError(upstream: transport, provider: provider), kind)
        case let error as AnthropicError:
            return (error, UpstreamReportedError.kind(ofType: error.type))
        default:
            return (.api("the \(provider) stream failed: \(error)"), "stream_broken")
        }
    }
}

extension AttemptFailure {
    /// No deployment of `group` can take the request: 429 when rate limits are why, else 529, with a
    /// `retry-after` saying when the first one comes back.
    static func unavailable(group: String, cause: FailureClass, retryIn wait: Duration?) -> AttemptFailure {
        let seconds = wait.map { String(Int(($0.seconds).rounded(.up))) }
        let headers = seconds.map { ["retry-after": $0] } ?? [:]
        let when = seconds.map { "; the first comes back in \($0) s" } ?? ""
        let error =
            cause == .rateLimit
            ? AnthropicError(
                status: 429, type: "rate_limit_error",
                message: "every deployment of \(group) is rate limited or at capacity\(when)", headers: headers)
            : AnthropicError(
                status: 529, type: "overloaded_error",
                message: "every deployment of \(group) is cooling down after failures\(when)", headers: headers)
        return AttemptFailure(kind: .unavailable, error: error, retryAfter: wait)
    }
}
