import NIOCore

/// Forwards an upstream body unchanged, reading usage, stop reason and first token off it on the way
/// (Anthropic's SSE events, or its JSON message) for the ``Exchange``. If the upstream breaks off an
/// event stream, a final `event: error` tells the client why instead of a silent truncation.
struct PassthroughBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let body: ByteStream
    let isEventStream: Bool
    let exchange: Exchange
    let provider: String

    struct AsyncIterator: AsyncIteratorProtocol {
        var body: any AsyncIteratorProtocol<ByteBuffer, any Error>
        let isEventStream: Bool
        let exchange: Exchange
        let provider: String
        var isFinished = false
        var decoder = ServerSentEventDecoder()
        /// A JSON body, kept (up to a bound) to read its usage at the end.
        var json = ByteBuffer()

        mutating func next() async throws -> ByteBuffer? {
            guard !self.isFinished else { return nil }
            do {
                guard let chunk = try await self.body.next() else {
                    self.isFinished = true
                    self.exchange.mark(.upstreamFinished)
                    if !self.isEventStream { AnthropicUsageReader.readMessage(self.json, into: self.exchange) }
                    return nil
                }
                if self.isEventStream {
                    for event in self.decoder.append(chunk) { AnthropicUsageReader.read(event, into: self.exchange) }
                } else if self.json.readableBytes < 4 << 20 {
                    var copy = chunk
                    self.json.writeBuffer(&copy)
                }
                return chunk
            } catch where self.isEventStream && !(error is CancellationError) {
                self.isFinished = true
                self.exchange.mark(.upstreamFinished)
                let failure = AnthropicError(midStream: error, provider: self.provider)
                self.exchange.update { record in
                    record.errorType = failure.type
                    record.upstreamError = record.upstreamError ?? "stream_broken"
                }
                return AnthropicEvent.error(failure).serverSentEvent()
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            body: self.body.makeAsyncIterator(),
            isEventStream: self.isEventStream,
            exchange: self.exchange,
            provider: self.provider
        )
    }
}

/// Reads what accounting needs from Anthropic's own wire format, without changing a byte.
enum AnthropicUsageReader {
    /// Only `message_start` and `message_delta` carry usage and the stop reason, so only they are
    /// parsed; a delta just marks the first token, by its event name, without parsing its JSON.
    static func read(_ sse: ServerSentEvent, into exchange: Exchange) {
        switch sse.name {
        case "content_block_delta":
            exchange.mark(.firstToken)
            return
        case "message_start", "message_delta", nil:
            break
        default:
            return
        }
        guard let event = try? JSONValue.parse(sse.data) else { return }
        switch event["type"]?.stringValue {
        case "message_start":
            if let usage = Self.usage(in: event["message"]) { exchange.update { $0.usage = usage } }
        case "content_block_delta":
            exchange.mark(.firstToken)
        case "message_delta":
            exchange.update { record in
                if let usage = Self.usage(in: event) {
                    // message_delta usage is cumulative but may omit the input counts.
                    record.usage.outputTokens = usage.outputTokens
                    if usage.inputTokens > 0 { record.usage.inputTokens = usage.inputTokens }
                    if usage.cacheReadInputTokens > 0 { record.usage.cacheReadInputTokens = usage.cacheReadInputTokens }
                    if usage.cacheCreationInputTokens > 0 { record.usage.cacheCreationInputTokens = usage.cacheCreationInputTokens }
                }
                if let stop = event["delta"]?["stop_reason"]?.stringValue { record.stopReason = stop }
            }
        default:
            break
        }
    }

    static func readMessage(_ body: ByteBuffer, into exchange: Exchange) {
        guard let message = try? body.withUnsafeReadableBytes({ try JSONParser.parse($0) }) else { return }
        exchange.update { record in
            if let usage = Self.usage(in: message) { record.usage = usage }
            record.stopReason = message["stop_reason"]?.stringValue
        }
    }

    /// The `usage` object of `container`, when it has a readable one.
    private static func usage(in container: JSONValue?) -> AnthropicUsage? {
        container?["usage"].flatMap { try? AnthropicUsage(json: $0) }
    }
}
