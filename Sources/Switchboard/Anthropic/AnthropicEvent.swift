import Foundation
import NIOCore

/// One event of an Anthropic Messages stream. Providers that translate produce these; the encoder
/// writes them as SSE, or folds them into one message when the client did not ask to stream.
public enum AnthropicEvent: Sendable {
    case messageStart(AnthropicMessageResponse)
    /// A block opens; tool-use blocks open with an empty `input`, which deltas then fill.
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
    public func serverSentEvent() throws -> ByteBuffer {
        let data = try JSONCoding.encoder.encode(Payload(event: self))
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + 32)
        buffer.writeString("event: \(self.name)\ndata: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }

    /// The `data:` JSON of an event.
    private struct Payload: Encodable {
        let event: AnthropicEvent

        enum CodingKeys: String, CodingKey {
            case type, message, index, delta, usage, error
            case contentBlock = "content_block"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.event.name, forKey: .type)
            switch self.event {
            case .messageStart(let message):
                try container.encode(message, forKey: .message)
            case .contentBlockStart(let index, let block):
                try container.encode(index, forKey: .index)
                switch block {
                case .toolUse(let id, let name, _):
                    try container.encode(
                        AnthropicResponseBlock.toolUse(id: id, name: name, input: .object([:])),
                        forKey: .contentBlock
                    )
                default:
                    try container.encode(block, forKey: .contentBlock)
                }
            case .contentBlockDelta(let index, let delta):
                try container.encode(index, forKey: .index)
                try container.encode(DeltaPayload(delta: delta), forKey: .delta)
            case .contentBlockStop(let index):
                try container.encode(index, forKey: .index)
            case .messageDelta(let stopReason, let stopSequence, let usage):
                try container.encode(
                    MessageDeltaPayload(stopReason: stopReason, stopSequence: stopSequence),
                    forKey: .delta
                )
                try container.encode(usage, forKey: .usage)
            case .messageStop, .ping:
                break
            case .error(let error):
                try container.encode(["type": error.type, "message": error.message], forKey: .error)
            }
        }
    }

    private struct DeltaPayload: Encodable {
        let delta: Delta

        enum CodingKeys: String, CodingKey {
            case type, text, thinking, signature
            case partialJSON = "partial_json"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self.delta {
            case .text(let text):
                try container.encode("text_delta", forKey: .type)
                try container.encode(text, forKey: .text)
            case .thinking(let thinking):
                try container.encode("thinking_delta", forKey: .type)
                try container.encode(thinking, forKey: .thinking)
            case .signature(let signature):
                try container.encode("signature_delta", forKey: .type)
                try container.encode(signature, forKey: .signature)
            case .inputJSON(let json):
                try container.encode("input_json_delta", forKey: .type)
                try container.encode(json, forKey: .partialJSON)
            }
        }
    }

    private struct MessageDeltaPayload: Encodable {
        let stopReason: String?
        let stopSequence: String?

        enum CodingKeys: String, CodingKey {
            case stopReason = "stop_reason"
            case stopSequence = "stop_sequence"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.stopReason, forKey: .stopReason)
            try container.encode(self.stopSequence, forKey: .stopSequence)
        }
    }
}
