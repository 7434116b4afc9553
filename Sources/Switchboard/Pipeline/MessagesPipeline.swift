import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/messages` and `/v1/messages/count_tokens`, stage by stage: decode → route → provider →
/// encode, each stage reporting into the request's ``Exchange``.
struct MessagesPipeline: Sendable {
    let routes: RouteTable
    let providers: ProviderRegistry
    let requestBodyLimit: Int
    /// Whether message content goes on spans (`gen_ai.input.messages` / `gen_ai.output.messages`).
    let captureContent: Bool

    /// Client headers a provider may pass on.
    private static let forwardedHeaderNames: [HTTPField.Name] = [
        HTTPField.Name("anthropic-version")!, HTTPField.Name("anthropic-beta")!,
    ]

    func createMessage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let (call, provider) = try await self.prepare(request, context: context, countingTokens: false)
        let reply = try await provider.sendMessage(call)
        return try await self.encode(reply, call: call)
    }

    func countTokens(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let (call, provider) = try await self.prepare(request, context: context, countingTokens: true)
        let reply = try await provider.countTokens(call)
        return try await self.encode(reply, call: call)
    }

    // MARK: - Stages

    private func prepare(
        _ request: Request,
        context: GatewayRequestContext,
        countingTokens: Bool
    ) async throws -> (ProviderCall, any Provider) {
        let exchange = context.exchange
        let body = try await self.collectBody(request)
        let decoded = try RequestDecoder.decode(body, requireMaxTokens: !countingTokens)
        exchange.mark(.decoded)
        let session = SessionIdentifier.find(
            header: request.headers[HTTPField.Name("x-claude-code-session-id")!],
            metadata: decoded.metadata
        )
        let captured = self.capturesContent(of: exchange) ? ContentCapture.inputMessages(of: decoded) : nil
        exchange.update { record in
            record.requestedModel = decoded.model
            record.isStreaming = !countingTokens && decoded.isStreaming
            record.sessionID = session
            record.maxTokens = decoded.maxTokens
            record.temperature = decoded.temperature
            record.capturedInput = captured
        }

        guard let route = self.routes.resolve(decoded.model) else {
            let known = self.routes.allModelNames.prefix(20).joined(separator: ", ")
            throw AnthropicError.notFound("model: \(decoded.model) is not configured; configured models: \(known)")
        }
        exchange.update { record in
            record.provider = route.provider
            record.upstreamModel = route.upstreamModel
        }

        var forwarded: [String: String] = [:]
        for name in Self.forwardedHeaderNames {
            if let value = request.headers[name] { forwarded[name.canonicalName] = value }
        }
        let call = ProviderCall(
            request: decoded,
            body: body,
            route: route,
            forwardedHeaders: forwarded,
            query: request.uri.query,
            exchange: exchange
        )
        return (call, self.providers.provider(for: route))
    }

    private func collectBody(_ request: Request) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > self.requestBodyLimit {
            throw AnthropicError.requestTooLarge(limit: self.requestBodyLimit)
        }
        do {
            return try await request.body.collect(upTo: self.requestBodyLimit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw AnthropicError.requestTooLarge(limit: self.requestBodyLimit)
        }
    }

    private func encode(_ reply: ProviderReply, call: ProviderCall) async throws -> Response {
        let provider = call.route.provider.rawValue
        switch reply {
        case .events(let events):
            let accounting = EventAccounting(exchange: call.exchange, captureContent: self.capturesContent(of: call.exchange))
            if call.request.isStreaming {
                let body = ServerSentEventBody(events: events, accounting: accounting, provider: provider)
                return Response(status: .ok, headers: Self.eventStreamHeaders, body: ResponseBody(asyncSequence: body))
            }
            var accumulator = MessageAccumulator()
            defer { call.exchange.mark(.upstreamFinished) }
            for try await event in events {
                accounting.observe(event)
                try accumulator.apply(event)
            }
            return try Self.json(accumulator.result())

        case .tokenCount(let count, let estimated):
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            if estimated { headers[HTTPField.Name("x-switchboard-token-count")!] = "estimated" }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: #"{"input_tokens":\#(count)}"#)))

        case .passthrough(let status, let upstreamHeaders, let body):
            var headers = HTTPFields()
            for (name, value) in upstreamHeaders {
                if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
            }
            let isEventStream = headers[.contentType]?.hasPrefix("text/event-stream") ?? false
            if status >= 400 {
                call.exchange.update { record in
                    record.errorType = AnthropicError.type(forStatus: status)
                    record.upstreamError = "http_\(status)"
                }
            }
            let forwarded = PassthroughBody(body: body, isEventStream: isEventStream, exchange: call.exchange, provider: provider)
            return Response(status: .init(code: status), headers: headers, body: ResponseBody(asyncSequence: forwarded))
        }
    }

    private static let eventStreamHeaders: HTTPFields = [
        .contentType: "text/event-stream; charset=utf-8",
        .cacheControl: "no-cache",
    ]

    /// Captured content goes only into spans, and a trace its caller did not sample exports none.
    private func capturesContent(of exchange: Exchange) -> Bool {
        self.captureContent && exchange.record.trace.isSampled
    }

    private static func json(_ message: AnthropicMessageResponse) -> Response {
        var writer = JSONWriter()
        writer.value(message)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes))
        )
    }
}
