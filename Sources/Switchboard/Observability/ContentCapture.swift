/// Message content in OpenTelemetry's GenAI JSON shape, for spans when capture is on
/// (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` or `switchboard.tracing.capture_message_content`).
enum ContentCapture {
    /// `gen_ai.input.messages`: `[{"role", "parts": [{"type": "text", "content"} | tool_call | tool_call_response]}]`.
    static func inputMessages(of request: AnthropicRequest) -> String {
        var messages: [JSONValue] = []
        if let system = request.system?.blocks, !system.isEmpty {
            messages.append(.object(["role": .string("system"), "parts": .array(system.map(Self.text))]))
        }
        for message in request.messages {
            var parts: [JSONValue] = []
            for block in message.content {
                switch block {
                case .text(let text): parts.append(Self.text(text))
                case .toolUse(let id, let name, let input):
                    parts.append(.object(["type": .string("tool_call"), "id": .string(id), "name": .string(name), "arguments": input]))
                case .toolResult(let id, let content, _):
                    let result = content.compactMap { if case .text(let text) = $0 { text } else { nil } }.joined(separator: "\n")
                    parts.append(.object(["type": .string("tool_call_response"), "id": .string(id), "result": .string(result)]))
                default: break
                }
            }
            let role = message.content.contains { if case .toolResult = $0 { true } else { false } } ? "tool" : message.role.rawValue
            messages.append(.object(["role": .string(role), "parts": .array(parts)]))
        }
        return JSONValue.array(messages).jsonText
    }

    /// `gen_ai.output.messages`, from what the response said and called.
    static func outputMessages(text: String?, toolCalls: [(id: String, name: String)], stopReason: String?) -> String {
        var parts: [JSONValue] = []
        if let text, !text.isEmpty { parts.append(Self.text(text)) }
        for call in toolCalls {
            parts.append(.object(["type": .string("tool_call"), "id": .string(call.id), "name": .string(call.name)]))
        }
        let finish: String = switch stopReason {
        case "tool_use": "tool_call"
        case "max_tokens": "length"
        case "refusal": "content_filter"
        case nil: "error"
        default: "stop"
        }
        let message: JSONValue = .object(["role": .string("assistant"), "parts": .array(parts), "finish_reason": .string(finish)])
        return JSONValue.array([message]).jsonText
    }

    private static func text(_ text: String) -> JSONValue {
        .object(["type": .string("text"), "content": .string(text)])
    }
}
