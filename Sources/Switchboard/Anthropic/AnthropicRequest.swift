/// The body of `POST /v1/messages` (and, without `max_tokens`, of `/v1/messages/count_tokens`).
///
/// Reading checks what a client can get wrong: required fields present, every field of its type,
/// roles known. Fields Switchboard does not use are ignored, as Anthropic's API ignores unknown ones
/// behind betas.
public struct AnthropicRequest: Sendable {
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

    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.model = try fields.required("model") { try $0.asString() }
        self.maxTokens = try fields.optional("max_tokens") { try $0.asInt() }
        self.messages = try fields.required("messages") { try $0.asList(AnthropicMessage.init(json:)) }
        self.system = try fields.optional("system", SystemPrompt.init(json:))
        self.stream = try fields.optional("stream") { try $0.asBool() }
        self.tools = try fields.optional("tools") { try $0.asList(AnthropicTool.init(json:)) }
        self.toolChoice = fields.optional("tool_choice")
        self.thinking = fields.optional("thinking")
        self.metadata = fields.optional("metadata")
        self.stopSequences = try fields.optional("stop_sequences") { try $0.asList { try $0.asString() } }
        self.temperature = try fields.optional("temperature") { try $0.asDouble() }
        self.topP = try fields.optional("top_p") { try $0.asDouble() }
        self.topK = try fields.optional("top_k") { try $0.asInt() }
        self.outputConfig = fields.optional("output_config")
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
public struct SystemPrompt: Sendable {
    public var blocks: [String]

    init(json: JSONValue) throws {
        if case .string(let text) = json {
            self.blocks = [text]
        } else {
            self.blocks = try json.asList { try JSONObjectReader($0).required("text") { try $0.asString() } }
        }
    }
}

public struct AnthropicTool: Sendable {
    public var name: String
    public var type: String?
    public var description: String?
    public var inputSchema: JSONValue?

    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.name = try fields.required("name") { try $0.asString() }
        self.type = try fields.optional("type") { try $0.asString() }
        self.description = try fields.optional("description") { try $0.asString() }
        self.inputSchema = fields.optional("input_schema")
    }
}

/// One message of the conversation.
public struct AnthropicMessage: Sendable {
    public enum Role: String, Sendable {
        case user, assistant
        /// A mid-conversation system message (Claude Code sends these with a beta).
        case system
    }

    public var role: Role
    /// The blocks; a string `content` becomes one text block.
    public var content: [AnthropicContentBlock]

    public init(role: Role, content: [AnthropicContentBlock]) {
        self.role = role
        self.content = content
    }

    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.role = try fields.required("role") { value in
            guard let role = Role(rawValue: try value.asString()) else {
                throw JSONFieldError.expected("'user', 'assistant' or 'system'")
            }
            return role
        }
        self.content = try fields.required("content", AnthropicContentBlock.list(json:))
    }
}

/// An input content block. Types Switchboard does not interpret are kept whole as ``other(type:raw:)``.
public enum AnthropicContentBlock: Sendable {
    case text(String)
    case image(source: JSONValue)
    case document(source: JSONValue)
    case toolUse(id: String, name: String, input: JSONValue)
    case toolResult(toolUseID: String, content: [AnthropicContentBlock], isError: Bool)
    case thinking(thinking: String, signature: String?)
    case redactedThinking(data: String)
    case other(type: String, raw: JSONValue)

    /// `content`: a string (one text block) or a list of blocks.
    static func list(json: JSONValue) throws -> [AnthropicContentBlock] {
        if case .string(let text) = json { return [.text(text)] }
        return try json.asList(AnthropicContentBlock.init(json:))
    }

    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        let type = try fields.required("type") { try $0.asString() }
        func string(_ key: String) throws -> String { try fields.required(key) { try $0.asString() } }
        func value(_ key: String) throws -> JSONValue { try fields.required(key) { $0 } }
        switch type {
        case "text":
            self = .text(try string("text"))
        case "image":
            self = .image(source: try value("source"))
        case "document":
            self = .document(source: try value("source"))
        case "tool_use":
            self = .toolUse(id: try string("id"), name: try string("name"), input: try value("input"))
        case "tool_result":
            self = .toolResult(
                toolUseID: try string("tool_use_id"),
                content: try fields.optional("content", Self.list(json:)) ?? [],
                isError: try fields.optional("is_error") { try $0.asBool() } ?? false
            )
        case "thinking":
            self = .thinking(thinking: try string("thinking"), signature: try fields.optional("signature") { try $0.asString() })
        case "redacted_thinking":
            self = .redactedThinking(data: try string("data"))
        default:
            self = .other(type: type, raw: json)
        }
    }
}
