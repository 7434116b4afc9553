/// A complete assistant message: the non-streaming response, and the `message` of `message_start`.
public struct AnthropicMessageResponse: Sendable, Encodable {
    public var id: String
    public var type = "message"
    public var role = "assistant"
    public var model: String
    public var content: [AnthropicResponseBlock]
    public var stopReason: String?
    public var stopSequence: String?
    public var usage: AnthropicUsage

    enum CodingKeys: String, CodingKey {
        case id, type, role, model, content, usage
        case stopReason = "stop_reason"
        case stopSequence = "stop_sequence"
    }

    public init(
        id: String,
        model: String,
        content: [AnthropicResponseBlock] = [],
        stopReason: String? = nil,
        stopSequence: String? = nil,
        usage: AnthropicUsage = AnthropicUsage()
    ) {
        self.id = id
        self.model = model
        self.content = content
        self.stopReason = stopReason
        self.stopSequence = stopSequence
        self.usage = usage
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.type, forKey: .type)
        try container.encode(self.role, forKey: .role)
        try container.encode(self.model, forKey: .model)
        try container.encode(self.content, forKey: .content)
        // Anthropic writes these as explicit nulls, and some clients check for the key.
        try container.encode(self.stopReason, forKey: .stopReason)
        try container.encode(self.stopSequence, forKey: .stopSequence)
        try container.encode(self.usage, forKey: .usage)
    }
}

/// Token counts, as Anthropic reports them: `input_tokens` excludes cached and cache-written tokens.
public struct AnthropicUsage: Sendable, Hashable, Codable {
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheCreationInputTokens: Int
    public var cacheReadInputTokens: Int

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheCreationInputTokens = "cache_creation_input_tokens"
        case cacheReadInputTokens = "cache_read_input_tokens"
    }

    public init(inputTokens: Int = 0, outputTokens: Int = 0, cacheCreationInputTokens: Int = 0, cacheReadInputTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheCreationInputTokens = cacheCreationInputTokens
        self.cacheReadInputTokens = cacheReadInputTokens
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.inputTokens = try container.decodeIfPresent(Int.self, forKey: .inputTokens) ?? 0
        self.outputTokens = try container.decodeIfPresent(Int.self, forKey: .outputTokens) ?? 0
        self.cacheCreationInputTokens = try container.decodeIfPresent(Int.self, forKey: .cacheCreationInputTokens) ?? 0
        self.cacheReadInputTokens = try container.decodeIfPresent(Int.self, forKey: .cacheReadInputTokens) ?? 0
    }
}

/// An output content block.
public enum AnthropicResponseBlock: Sendable, Encodable {
    case text(String)
    case thinking(thinking: String, signature: String)
    case toolUse(id: String, name: String, input: JSONValue)

    enum CodingKeys: String, CodingKey { case type, text, thinking, signature, id, name, input }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text):
            try container.encode("text", forKey: .type)
            try container.encode(text, forKey: .text)
        case .thinking(let thinking, let signature):
            try container.encode("thinking", forKey: .type)
            try container.encode(thinking, forKey: .thinking)
            try container.encode(signature, forKey: .signature)
        case .toolUse(let id, let name, let input):
            try container.encode("tool_use", forKey: .type)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(input, forKey: .input)
        }
    }
}
