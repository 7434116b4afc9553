import NIOCore
import Upstream

/// Stage 4, the call: the one place where a request talks to an upstream.
///
/// It opens each attempt (a CLIENT span with its own `traceparent`), marks when the request left and
/// when the answer began, records how an attempt failed, and decides what the client sees: a transport
/// failure or an error status becomes the Anthropic error Claude Code expects; a client that went away
/// becomes cancellation, never an upstream error. Providers only translate and say how their upstream
/// words its errors, so a new provider, a retry or a fallback adds no accounting code.
public struct UpstreamCall: Sendable {
    let client: UpstreamClient
    let exchange: Exchange
    /// The deployment this attempt goes to.
    let target: AttemptTarget
    /// When the request must be over, every attempt included: each transfer is cut there.
    let deadline: ContinuousClock.Instant?

    /// The provider's name in messages (`gemini`, `anthropic`).
    var provider: String { self.target.provider.rawValue }

    /// Sends `request` and returns once a successful (2xx) response head has arrived. An error status
    /// is read (up to 1 MiB) and thrown as what `errors` makes of it.
    func send(_ request: UpstreamRequest, errors: some UpstreamErrorReader) async throws -> UpstreamResponse {
        let response = try await self.open(request)
        guard (200..<300).contains(response.status) else {
            self.exchange.failAttempt("http_\(response.status)")
            let body = (try? await response.collectBody(upTo: 1 << 20)) ?? ByteBuffer()
            throw errors.error(status: response.status, body: body, headers: response.headers)
        }
        return response
    }

    /// Sends `request` and returns its response whatever the status: for forwarding an upstream's answer
    /// as it is. An error status is still recorded as the attempt's failure; the call stage decides
    /// whether the client sees it or another attempt.
    func forward(_ request: UpstreamRequest) async throws -> UpstreamResponse {
        let response = try await self.open(request)
        if response.status >= 400 { self.exchange.failAttempt("http_\(response.status)") }
        return response
    }

    /// Records an answer made in-process (the mock provider) as an attempt, traced like any other.
    func answerInProcess(model: String) {
        _ = self.exchange.beginUpstreamAttempt(url: "mock:\(model)", target: self.target)
        self.exchange.mark(.upstreamRequestSent)
        self.exchange.mark(.firstUpstreamByte)
    }

    private func open(_ request: UpstreamRequest) async throws -> UpstreamResponse {
        var request = request
        request.headers.add(
            name: "traceparent",
            value: self.exchange.beginUpstreamAttempt(url: request.url, target: self.target)
        )
        if let deadline = self.deadline {
            let remaining = deadline - .now
            guard remaining > .zero else {
                self.exchange.failAttempt("timeout")
                throw AnthropicError.timeout("the request's deadline passed before \(self.provider) answered")
            }
            request.timeout = min(request.timeout ?? remaining, remaining)
        }
        self.exchange.mark(.upstreamRequestSent)
        let response: UpstreamResponse
        do {
            response = try await self.client.execute(request)
        } catch let error as UpstreamError {
            if error.kind == .cancelled, Task.isCancelled { throw CancellationError() }
            self.exchange.failAttempt(error.kind.description)
            throw AnthropicError(upstream: error, provider: self.provider)
        }
        self.exchange.mark(.firstUpstreamByte)
        return response
    }
}

/// How one upstream words its errors: turns an error status and body into what the client sees.
protocol UpstreamErrorReader: Sendable {
    func error(status: Int, body: ByteBuffer, headers: UpstreamHeaders) -> AnthropicError
}

/// An error an upstream reported inside an answer that had already begun with a success status (Gemini
/// sends `data: {"error": {…}}` on a stream that started with 200; Anthropic sends `event: error`).
/// Counted as the attempt's failure, `stream_<type>`; the client sees `error`.
struct UpstreamReportedError: Error {
    let error: AnthropicError

    var kind: String { Self.kind(ofType: self.error.type) }

    /// The failure kind for an in-stream error of Anthropic type `type`.
    static func kind(ofType type: String) -> String { "stream_\(type)" }
}
