import NIOCore

/// Forwards an upstream body unchanged, reading usage, stop reason, tool calls and first token off it on
/// the way (Anthropic's SSE events, or its JSON message) into the same ``ExchangeAccounting`` translated
/// answers use. If the upstream breaks off an event stream, a final `event: error` tells the client why
/// instead of a silent truncation.
struct PassthroughBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let body: ByteStream
    let isEventStream: Bool
    let accounting: ExchangeAccounting

    struct AsyncIterator: AsyncIteratorProtocol {
        var body: any AsyncIteratorProtocol<ByteBuffer, any Error>
        let isEventStream: Bool
        let accounting: ExchangeAccounting
        var isFinished = false
        var decoder = ServerSentEventDecoder()
        /// A JSON body, kept (up to a bound) to read its usage at the end.
        var json = ByteBuffer()

        mutating func next() async throws -> ByteBuffer? {
            guard !self.isFinished else { return nil }
            do {
                guard let chunk = try await self.body.next() else {
                    try Task.checkCancellation()
                    self.isFinished = true
                    self.accounting.streamEnded()
                    if !self.isEventStream { AnthropicUsageReader.readMessage(self.json, into: self.accounting) }
                    return nil
                }
                if self.isEventStream {
                    for event in self.decoder.append(chunk) { AnthropicUsageReader.read(event, into: self.accounting) }
                } else if self.json.readableBytes < 4 << 20 {
                    var copy = chunk
                    self.json.writeBuffer(&copy)
                }
                return chunk
            } catch where error is CancellationError || Task.isCancelled {
                throw CancellationError()
            } catch where self.isEventStream {
                self.isFinished = true
                return AnthropicEvent.error(self.accounting.streamFailed(error)).serverSentEvent()
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: self.body.makeAsyncIterator(), isEventStream: self.isEventStream, accounting: self.accounting)
    }
}

/// Reads what accounting needs from Anthropic's own wire format, without changing a byte.
enum AnthropicUsageReader {
    /// Only `message_start`, `content_block_start` and `message_delta` carry what accounting needs, so
    /// only they are parsed; a delta just marks the first token, by its event name, without parsing.
    static func read(_ sse: ServerSentEvent, into accounting: ExchangeAccounting) {
        switch sse.name {
        case "content_block_delta":
            accounting.contentArrived(text: nil)
            return
        case "message_start", "message_delta", "content_block_start", "error", nil:
            break
        default:
            return
        }
        guard let event = try? JSONValue.parse(sse.data) else { return }
        switch event["type"]?.stringValue {
        case "message_start":
            accounting.messageStarted(id: event["message"]?["id"]?.stringValue, usage: Self.usage(in: event["message"]))
        case "content_block_start":
            let block = event["content_block"]
            if block?["type"]?.stringValue == "tool_use", let id = block?["id"]?.stringValue,
                let name = block?["name"]?.stringValue
            {
                accounting.toolCallStarted(id: id, name: name)
            }
        case "content_block_delta":
            accounting.contentArrived(text: nil)
        case "message_delta":
            accounting.messageEnded(stopReason: event["delta"]?["stop_reason"]?.stringValue, usage: Self.usage(in: event))
        case "error":
            // Anthropic's own mid-stream error (overloaded, …): the upstream failed this attempt.
            accounting.upstreamReportedError(type: event["error"]?["type"]?.stringValue ?? "api_error")
        default:
            break
        }
    }

    static func readMessage(_ body: ByteBuffer, into accounting: ExchangeAccounting) {
        guard let message = try? body.withUnsafeReadableBytes({ try JSONParser.parse($0) }),
            message["type"]?.stringValue == "message"
        else { return }
        accounting.messageStarted(id: message["id"]?.stringValue, usage: Self.usage(in: message))
        if case .array(let blocks)? = message["content"] {
            for block in blocks where block["type"]?.stringValue == "tool_use" {
                if let id = block["id"]?.stringValue, let name = block["name"]?.stringValue {
                    accounting.toolCallStarted(id: id, name: name)
                }
            }
        }
        accounting.messageEnded(stopReason: message["stop_reason"]?.stringValue, usage: nil)
    }

    /// The `usage` object of `container`, when it has a readable one.
    private static func usage(in container: JSONValue?) -> AnthropicUsage? {
        container?["usage"].flatMap { try? AnthropicUsage(json: $0) }
    }
}
