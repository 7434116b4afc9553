/// A complete assistant message: the non-streaming response, and the `message` of `message_start`.
public struct AnthropicMessageResponse: Sendable {
    public var id: String
    public var type = "message"
    public var role = "assistant"
    public var model: String
    public var content: [AnthropicResponseBlock]
    public var stopReason: String?
    public var stopSequence: String?
    public var usage: AnthropicUsage

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
}

extension AnthropicMessageResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("id", self.id)
            writer.field("type", self.type)
            writer.field("role", self.role)
            writer.field("model", self.model)
            writer.field("content", self.content)
            // Anthropic writes these as explicit nulls, and some clients check for the key.
            writer.field("stop_reason", self.stopReason.map(JSONValue.string) ?? .null)
            writer.field("stop_sequence", self.stopSequence.map(JSONValue.string) ?? .null)
            writer.field("usage", self.usage)
        }
    }
}

/// Token counts, as Anthropic reports them: `input_tokens` excludes cached and cache-written tokens.
public struct AnthropicUsage: Sendable, Hashable {
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheCreationInputTokens: Int
    public var cacheReadInputTokens: Int
    /// `server_tool_use.web_search_requests`: searches run for the answer.
    public var webSearchRequests: Int

    public init(
        inputTokens: Int = 0,
        outputTokens: Int = 0,
        cacheCreationInputTokens: Int = 0,
        cacheReadInputTokens: Int = 0,
        webSearchRequests: Int = 0
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheCreationInputTokens = cacheCreationInputTokens
        self.cacheReadInputTokens = cacheReadInputTokens
        self.webSearchRequests = webSearchRequests
    }
}

extension AnthropicUsage: JSONReadable {
    /// Absent counts are 0: `message_delta` usage may carry only the output count.
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.init(
            inputTokens: try fields.optional("input_tokens") ?? 0,
            outputTokens: try fields.optional("output_tokens") ?? 0,
            cacheCreationInputTokens: try fields.optional("cache_creation_input_tokens") ?? 0,
            cacheReadInputTokens: try fields.optional("cache_read_input_tokens") ?? 0,
            webSearchRequests: try fields.optional("server_tool_use") { value -> Int in
                try JSONObjectReader(value).optional("web_search_requests") ?? 0
            } ?? 0
        )
    }
}

extension AnthropicUsage: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("input_tokens", self.inputTokens)
            writer.field("output_tokens", self.outputTokens)
            writer.field("cache_creation_input_tokens", self.cacheCreationInputTokens)
            writer.field("cache_read_input_tokens", self.cacheReadInputTokens)
            if self.webSearchRequests > 0 {
                writer.key("server_tool_use")
                writer.object { writer in writer.field("web_search_requests", self.webSearchRequests) }
            }
        }
    }
}

/// An output content block.
public enum AnthropicResponseBlock: Sendable {
    case text(String)
    case thinking(thinking: String, signature: String)
    case toolUse(id: String, name: String, input: JSONValue)
    /// A tool the server ran itself (`web_search`); its result block follows.
    case serverToolUse(id: String, name: String, input: JSONValue)
    case webSearchToolResult(toolUseID: String, results: [WebSearchResult])
}

/// One source in a `web_search_tool_result`.
public struct WebSearchResult: Sendable, Equatable {
    public var url: String
    public var title: String
    /// Opaque to clients; Anthropic's carries page content for later turns.
    public var encryptedContent: String
    /// How old the page is (`April 30, 2025`), when known.
    public var pageAge: String?

    public init(url: String, title: String, encryptedContent: String, pageAge: String? = nil) {
        self.url = url
        self.title = title
        self.encryptedContent = encryptedContent
        self.pageAge = pageAge
    }
}

extension WebSearchResult: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("type", "web_search_result")
            writer.field("url", self.url)
            writer.field("title", self.title)
            writer.field("encrypted_content", self.encryptedContent)
            writer.field("page_age", self.pageAge.map(JSONValue.string) ?? .null)
        }
    }
}

extension AnthropicResponseBlock: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            switch self {
            case .text(let text):
                writer.field("type", "text")
                writer.field("text", text)
            case .thinking(let thinking, let signature):
                writer.field("type", "thinking")
                writer.field("thinking", thinking)
                writer.field("signature", signature)
            case .toolUse(let id, let name, let input):
                writer.field("type", "tool_use")
                writer.field("id", id)
                writer.field("name", name)
                writer.field("input", input)
            case .serverToolUse(let id, let name, let input):
                writer.field("type", "server_tool_use")
                writer.field("id", id)
                writer.field("name", name)
                writer.field("input", input)
            case .webSearchToolResult(let toolUseID, let results):
                writer.field("type", "web_search_tool_result")
                writer.field("tool_use_id", toolUseID)
                writer.field("content", results)
            }
        }
    }
}
