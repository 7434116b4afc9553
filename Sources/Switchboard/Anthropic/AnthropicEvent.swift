import NIOCore

/// One event of an Anthropic Messages stream. Providers that translate produce these; the encoder
/// writes them as SSE, or folds them into one message when the client did not ask to stream.
public enum AnthropicEvent: Sendable {
    case messageStart(AnthropicMessageResponse)
    /// A block opens; tool-use and server-tool-use blocks open with an empty `input`, which deltas then
    /// fill; a `web_search_tool_result` opens whole and has no deltas.
    case contentBlockStart(index: Int, block: AnthropicResponseBlock)
    case contentBlockDelta(index: Int, delta: Delta)
    case contentBlockStop(index: Int)
    /// The end of the message; `usage` holds cumulative totals.
    case messageDelta(stopReason: String?, stopSequence: String?, usage: AnthropicUsage)
    case messageStop
    case ping
    case error(AnthropicError)

    public enum Delta: Sendable {
        case text(String)
        case thinking(String)
        case signature(String)
        case inputJSON(String)
    }

    /// The SSE event name, which Anthropic's clients dispatch on; it equals `data.type`.
    public var name: String {
        switch self {
        case .messageStart: "message_start"
        case .contentBlockStart: "content_block_start"
        case .contentBlockDelta: "content_block_delta"
        case .contentBlockStop: "content_block_stop"
        case .messageDelta: "message_delta"
        case .messageStop: "message_stop"
        case .ping: "ping"
        case .error: "error"
        }
    }

    /// `event: NAME\ndata: JSON\n\n`.
    public func serverSentEvent() -> ByteBuffer {
        var buffer = ByteBuffer()
        self.writeServerSentEvent(into: &buffer)
        return buffer
    }

    /// Appends `event: NAME\ndata: JSON\n\n` to `buffer`.
    public func writeServerSentEvent(into buffer: inout ByteBuffer) {
        var writer = JSONWriter(capacity: 256)
        self.write(to: &writer)
        buffer.reserveCapacity(minimumWritableBytes: writer.bytes.count + 40)
        buffer.writeString("event: ")
        buffer.writeString(self.name)
        buffer.writeString("\ndata: ")
        buffer.writeBytes(writer.bytes)
        buffer.writeString("\n\n")
    }
}

extension AnthropicEvent: JSONWritable {
    /// The `data:` JSON of the event.
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("type", self.name)
            switch self {
            case .messageStart(let message):
                writer.field("message", message)
            case .contentBlockStart(let index, let block):
                writer.field("index", index)
                // Tool inputs follow as input_json_delta events.
                switch block {
                case .toolUse(let id, let name, _):
                    writer.field("content_block", AnthropicResponseBlock.toolUse(id: id, name: name, input: .object([:])))
                case .serverToolUse(let id, let name, _):
                    let empty = AnthropicResponseBlock.serverToolUse(id: id, name: name, input: .object([:]))
                    writer.field("content_block", empty)
                default:
                    writer.field("content_block", block)
                }
            case .contentBlockDelta(let index, let delta):
                writer.field("index", index)
                writer.key("delta")
                writer.object { writer in
                    switch delta {
                    case .text(let text):
                        writer.field("type", "text_delta")
                        writer.field("text", text)
                    case .thinking(let thinking):
                        writer.field("type", "thinking_delta")
                        writer.field("thinking", thinking)
                    case .signature(let signature):
                        writer.field("type", "signature_delta")
                        writer.field("signature", signature)
                    case .inputJSON(let json):
                        writer.field("type", "input_json_delta")
                        writer.field("partial_json", json)
                    }
                }
            case .contentBlockStop(let index):
                writer.field("index", index)
            case .messageDelta(let stopReason, let stopSequence, let usage):
                writer.key("delta")
                writer.object { writer in
                    // Explicit nulls, as Anthropic writes them.
                    writer.field("stop_reason", stopReason.map(JSONValue.string) ?? .null)
                    writer.field("stop_sequence", stopSequence.map(JSONValue.string) ?? .null)
                }
                writer.field("usage", usage)
            case .messageStop, .ping:
                break
            case .error(let error):
                writer.key("error")
                writer.object { writer in
                    writer.field("type", error.type)
                    writer.field("message", error.message)
                }
            }
        }
    }
}
