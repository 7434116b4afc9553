/// The body of `POST /v1/messages` (and, without `max_tokens`, of `/v1/messages/count_tokens`).
///
/// Decoding checks what a client can get wrong: required fields present, every field of its type,
/// roles known. Fields Switchboard does not use are ignored, as Anthropic's API ignores unknown ones
/// behind betas.
public struct AnthropicRequest: Sendable, Decodable {
    public var model: String
    public var maxTokens: Int?
    public var messages: [AnthropicMessage]
    public var system: SystemPrompt?
    public var stream: Bool?
    public var tools: [AnthropicTool]?
    public var toolChoice: JSONValue?
    public var thinking: JSONValue?
    public var metadata: JSONValue?
    public var stopSequences: [String]?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var outputConfig: JSONValue?

    enum CodingKeys: String, CodingKey {
        case model, messages, system, stream, tools, thinking, metadata, temperature
        case maxTokens = "max_tokens"
        case toolChoice = "tool_choice"
        case stopSequences = "stop_sequences"
        case topP = "top_p"
        case topK = "top_k"
        case outputConfig = "output_config"
    }

    public var isStreaming: Bool { self.stream ?? false }

    /// The text of the last text block of the last user message: what the mock echoes.
    public var lastUserText: String? {
        for message in self.messages.reversed() where message.role == .user {
            for block in message.content.reversed() {
                if case .text(let text) = block { return text }
            }
        }
        return nil
    }
}

/// `system`: a string, or an array of text blocks.
public struct SystemPrompt: Sendable, Decodable {
    public var blocks: [String]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.blocks = [text]
        } else {
            self.blocks = try container.decode([TextBlock].self).map(\.text)
        }
    }

    private struct TextBlock: Decodable {
        let text: String
    }
}

public struct AnthropicTool: Sendable, Decodable {
    public var name: String
    public var type: String?
    public var description: String?
    public var inputSchema: JSONValue?

    enum CodingKeys: String, CodingKey {
        case name, type, description
        case inputSchema = "input_schema"
    }
}

/// One message of the conversation.
public struct AnthropicMessage: Sendable, Decodable {
    public enum Role: String, Sendable, Decodable {
        case user, assistant
        /// A mid-conversation system message (Claude Code sends these with a beta).
        case system
    }

    public var role: Role
    /// The blocks; a string `content` becomes one text block.
    public var content: [AnthropicContentBlock]

    enum CodingKeys: String, CodingKey { case role, content }

    public init(role: Role, content: [AnthropicContentBlock]) {
        self.role = role
        self.content = content
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.role = try container.decode(Role.self, forKey: .role)
        if let text = try? container.decode(String.self, forKey: .content) {
            self.content = [.text(text)]
        } else {
            self.content = try container.decode([AnthropicContentBlock].self, forKey: .content)
        }
    }
}

/// An input content block. Types Switchboard does not interpret are kept whole as ``other(type:raw:)``.
public enum AnthropicContentBlock: Sendable, Decodable {
    case text(String)
    case image(source: JSONValue)
    case document(source: JSONValue)
    case toolUse(id: String, name: String, input: JSONValue)
    case toolResult(toolUseID: String, content: [AnthropicContentBlock], isError: Bool)
    case thinking(thinking: String, signature: String?)
    case redactedThinking(data: String)
    case other(type: String, raw: JSONValue)

    enum CodingKeys: String, CodingKey {
        case type, text, source, id, name, input, content, thinking, signature, data
        case toolUseID = "tool_use_id"
        case isError = "is_error"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "text":
            self = .text(try container.decode(String.self, forKey: .text))
        case "image":
            self = .image(source: try container.decode(JSONValue.self, forKey: .source))
        case "document":
            self = .document(source: try container.decode(JSONValue.self, forKey: .source))
        case "tool_use":
            self = .toolUse(
                id: try container.decode(String.self, forKey: .id),
                name: try container.decode(String.self, forKey: .name),
                input: try container.decode(JSONValue.self, forKey: .input)
            )
        case "tool_result":
            let content: [AnthropicContentBlock]
            if let text = try? container.decode(String.self, forKey: .content) {
                content = [.text(text)]
            } else {
                content = try container.decodeIfPresent([AnthropicContentBlock].self, forKey: .content) ?? []
            }
            self = .toolResult(
                toolUseID: try container.decode(String.self, forKey: .toolUseID),
                content: content,
                isError: try container.decodeIfPresent(Bool.self, forKey: .isError) ?? false
            )
        case "thinking":
            self = .thinking(
                thinking: try container.decode(String.self, forKey: .thinking),
                signature: try container.decodeIfPresent(String.self, forKey: .signature)
            )
        case "redacted_thinking":
            self = .redactedThinking(data: try container.decode(String.self, forKey: .data))
        default:
            self = .other(type: type, raw: try JSONValue(from: decoder))
        }
    }
}
