import HTTPTypes
import Hummingbird
import NIOCore

/// Stage 1, decode: the client's bytes → an ``AnthropicRequest``, or a 400 that says exactly what is
/// wrong and where. Notes on the ``Exchange`` what later stages and observers read: the model asked
/// for, streaming, the session, request parameters.
struct DecodeStage: Sendable {
    let requestBodyLimit: Int
    /// Whether message content goes on spans (`gen_ai.input.messages`).
    let captureContent: Bool

    /// Client headers a provider may pass on.
    private static let forwardedHeaderNames: [HTTPField.Name] = [
        HTTPField.Name("anthropic-version")!, HTTPField.Name("anthropic-beta")!,
    ]
    private static let sessionHeader = HTTPField.Name("x-claude-code-session-id")!
    /// The Anthropic SDKs' own request timeout, in seconds: the request is worth nothing to the client after it.
    private static let clientTimeoutHeader = HTTPField.Name("x-stainless-timeout")!

    /// A decoded request, with what providers may need of the original.
    struct Decoded: Sendable {
        let request: AnthropicRequest
        /// The client's body, exactly as it arrived.
        let body: ByteBuffer
        let forwardedHeaders: [String: String]
        let query: String?
        /// How long the client waits for the answer, when it said (`x-stainless-timeout`).
        var clientTimeout: Duration? = nil
    }

    /// Decodes a Messages request; `countingTokens` for `count_tokens`, which needs no `max_tokens`.
    func decode(_ request: Request, exchange: Exchange, countingTokens: Bool) async throws -> Decoded {
        let body = try await self.collectBody(request)
        let decoded = try Self.decode(body, requireMaxTokens: !countingTokens)
        exchange.mark(.decoded)
        let session = SessionIdentifier.find(header: request.headers[Self.sessionHeader], metadata: decoded.metadata)
        let captured = self.captureContent && exchange.record.trace.isSampled ? ContentCapture.inputMessages(of: decoded) : nil
        exchange.update { record in
            record.requestedModel = decoded.model
            record.isStreaming = !countingTokens && decoded.isStreaming
            record.sessionID = session
            record.maxTokens = decoded.maxTokens
            record.temperature = decoded.temperature
            record.capturedInput = captured
        }
        var forwarded: [String: String] = [:]
        for name in Self.forwardedHeaderNames {
            if let value = request.headers[name] { forwarded[name.canonicalName] = value }
        }
        var clientTimeout: Duration?
        if let text = request.headers[Self.clientTimeoutHeader], let seconds = Double(text), seconds > 0, seconds < 31_536_000 {
            clientTimeout = .milliseconds(Int64(seconds * 1000))
        }
        return Decoded(
            request: decoded, body: body, forwardedHeaders: forwarded, query: request.uri.query, clientTimeout: clientTimeout
        )
    }

    /// Decodes a Messages request body; `requireMaxTokens` is false for `count_tokens`.
    static func decode(_ body: ByteBuffer, requireMaxTokens: Bool) throws -> AnthropicRequest {
        let request: AnthropicRequest
        do {
            let json = try body.withUnsafeReadableBytes { try JSONParser.parse($0) }
            request = try AnthropicRequest(json: json)
        } catch let error as JSONSyntaxError {
            throw AnthropicError.invalidRequest("The request body is not valid JSON: \(error)")
        } catch let error as JSONFieldError {
            throw AnthropicError.invalidRequest(error.message)
        }
        if requireMaxTokens {
            guard let maxTokens = request.maxTokens else { throw AnthropicError.invalidRequest("max_tokens: Field required") }
            guard maxTokens >= 0 else { throw AnthropicError.invalidRequest("max_tokens: must be 0 or greater") }
        }
        if request.model.isEmpty { throw AnthropicError.invalidRequest("model: must not be empty") }
        return request
    }

    private func collectBody(_ request: Request) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > self.requestBodyLimit {
            throw AnthropicError.requestTooLarge(limit: self.requestBodyLimit)
        }
        do {
            return try await request.body.collect(upTo: self.requestBodyLimit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw AnthropicError.requestTooLarge(limit: self.requestBodyLimit)
        } catch {
            // The body comes from the client alone: when it breaks off, the client has gone, whether or not
            // its connection's close has been heard yet (the event loop decides which comes first).
            throw CancellationError()
        }
    }
}
