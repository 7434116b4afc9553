import HTTPTypes
import Hummingbird
import NIOCore

/// Stage 7, encode: a provider's reply → the HTTP response: SSE as events come, one JSON message for a
/// non-streaming client, a token count, or an upstream's own bytes. Every answer passes
/// ``ExchangeAccounting`` (stage 6) on its way out.
struct EncodeStage: Sendable {
    /// Whether response text goes on spans.
    let captureContent: Bool

    func encode(_ reply: ProviderReply, exchange: Exchange, isStreaming: Bool) async throws -> Response {
        let accounting = ExchangeAccounting(
            exchange: exchange,
            provider: exchange.record.provider?.rawValue ?? "upstream",
            captureContent: self.captureContent && exchange.record.trace.isSampled
        )
        switch reply {
        case .events(let events):
            if isStreaming {
                let body = ServerSentEventBody(events: events, accounting: accounting)
                return Response(status: .ok, headers: Self.eventStreamHeaders, body: ResponseBody(asyncSequence: body))
            }
            return try Self.json(await Self.accumulate(events, accounting: accounting))

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
            let forwarded = PassthroughBody(body: body, isEventStream: isEventStream, accounting: accounting)
            return Response(status: .init(code: status), headers: headers, body: ResponseBody(asyncSequence: forwarded))
        }
    }

    /// Folds the events into one message. A failure becomes the error response instead; a client that
    /// went away, cancellation.
    private static func accumulate(_ events: AnthropicEventStream, accounting: ExchangeAccounting) async throws
        -> AnthropicMessageResponse
    {
        var accumulator = MessageAccumulator()
        do {
            for try await event in events {
                accounting.observe(event)
                try accumulator.apply(event)
            }
            try Task.checkCancellation()
        } catch where error is CancellationError || Task.isCancelled {
            throw CancellationError()
        } catch {
            throw accounting.streamFailed(error)
        }
        accounting.streamEnded()
        return try accumulator.result()
    }

    private static let eventStreamHeaders: HTTPFields = [
        .contentType: "text/event-stream; charset=utf-8",
        .cacheControl: "no-cache",
    ]

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
