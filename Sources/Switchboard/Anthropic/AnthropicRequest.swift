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
        self.model = try fields.required("model")
        self.maxTokens = try fields.optional("max_tokens")
        self.messages = try fields.required("messages")
        self.system = try fields.optional("system")
        self.stream = try fields.optional("stream")
        self.tools = try fields.optional("tools")
        self.toolChoice = try fields.optional("tool_choice")
        self.thinking = try fields.optional("thinking")
        self.metadata = try fields.optional("metadata")
        self.stopSequences = try fields.optional("stop_sequences")
        self.temperature = try fields.optional("temperature")
        self.topP = try fields.optional("top_p")
        self.topK = try fields.optional("top_k")
        self.outputConfig = try fields.optional("output_config")
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
public struct SystemPrompt: Sendable, JSONReadable {
    public var blocks: [String]

    init(json: JSONValue) throws {
        if case .string(let text) = json {
            self.blocks = [text]
        } else {
            self.blocks = try json.asList { try JSONObjectReader($0).required("text") as String }
        }
    }
}

public struct AnthropicTool: Sendable, JSONReadable {
    public var name: String
    public var type: String?
    public var description: String?
    public var inputSchema: JSONValue?
    /// The options of a `web_search_*` server tool; nil for every other tool.
    public var webSearch: WebSearchOptions?

    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.name = try fields.required("name")
        self.type = try fields.optional("type")
        self.description = try fields.optional("description")
        self.inputSchema = try fields.optional("input_schema")
        if let type = self.type, type.hasPrefix("web_search_") {
            self.webSearch = try WebSearchOptions(fields)
        }
    }
}

/// Anthropic's web search server tool (`{"type": "web_search_20250305", "name": "web_search", …}`).
public struct WebSearchOptions: Sendable {
    public var maxUses: Int?
    /// Only results from these domains (and their subdomains).
    public var allowedDomains: [String]?
    /// No results from these domains (and their subdomains).
    public var blockedDomains: [String]?
    /// `{"type": "approximate", "city": …, "country": …}`.
    public var userLocation: JSONValue?

    init(_ fields: JSONObjectReader) throws {
        self.maxUses = try fields.optional("max_uses")
        self.allowedDomains = try fields.optional("allowed_domains")
        self.blockedDomains = try fields.optional("blocked_domains")
        self.userLocation = try fields.optional("user_location")
        if self.allowedDomains != nil && self.blockedDomains != nil {
            // Anthropic's API refuses the pair too.
            throw JSONFieldError(path: ["blocked_domains"], problem: "cannot be set together with allowed_domains")
        }
    }
}

/// One message of the conversation.
public struct AnthropicMessage: Sendable, JSONReadable {
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
        let type: String = try fields.required("type")
        switch type {
        case "text":
            self = .text(try fields.required("text"))
        case "image":
            self = .image(source: try fields.required("source"))
        case "document":
            self = .document(source: try fields.required("source"))
        case "tool_use":
            self = .toolUse(id: try fields.required("id"), name: try fields.required("name"), input: try fields.required("input"))
        case "tool_result":
            self = .toolResult(
                toolUseID: try fields.required("tool_use_id"),
                content: try fields.optional("content", Self.list(json:)) ?? [],
                isError: try fields.optional("is_error") ?? false
            )
        case "thinking":
            self = .thinking(thinking: try fields.required("thinking"), signature: try fields.optional("signature"))
        case "redacted_thinking":
            self = .redactedThinking(data: try fields.required("data"))
        default:
            self = .other(type: type, raw: json)
        }
    }
}
