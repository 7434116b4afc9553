/// One `GenerateContentResponse`: the whole answer from `generateContent`, or one SSE chunk of
/// `streamGenerateContent` (holding only the new parts).
struct GeminiResponse: Sendable {
    struct Candidate: Sendable {
        var content: GeminiContent?
        var finishReason: String?
        var finishMessage: String?
        var groundingMetadata: GroundingMetadata?
    }

    /// What Google Search grounding searched for and found. Streamed, it may come on several chunks,
    /// repeating what earlier ones said.
    struct GroundingMetadata: Sendable, Equatable {
        struct Source: Sendable, Equatable {
            /// A `vertexaisearch.cloud.google.com/grounding-api-redirect/…` link to the page.
            var uri: String
            /// The page's title; for web results, in practice its domain (`example.com`).
            var title: String?
        }

        var webSearchQueries: [String]
        /// `groundingChunks[].web`; chunks of other kinds (maps, retrieved context) are not web results.
        var sources: [Source]
    }

    struct UsageMetadata: Sendable, Equatable {
        var promptTokenCount: Int?
        var cachedContentTokenCount: Int?
        var candidatesTokenCount: Int?
        var thoughtsTokenCount: Int?
        var toolUsePromptTokenCount: Int?
    }

    struct PromptFeedback: Sendable {
        var blockReason: String?
    }

    var candidates: [Candidate]?
    var usageMetadata: UsageMetadata?
    var promptFeedback: PromptFeedback?
}

extension GeminiResponse: JSONReadable {
    /// Reads a response; unknown fields (safety ratings, citations, grounding…) are ignored.
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.candidates = try fields.optional("candidates")
        self.usageMetadata = try fields.optional("usageMetadata")
        self.promptFeedback = try fields.optional("promptFeedback") { value in
            PromptFeedback(blockReason: try JSONObjectReader(value).optional("blockReason"))
        }
    }
}

extension GeminiResponse.Candidate: JSONReadable {
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.content = try fields.optional("content")
        self.finishReason = try fields.optional("finishReason")
        self.finishMessage = try fields.optional("finishMessage")
        self.groundingMetadata = try fields.optional("groundingMetadata")
    }
}

extension GeminiResponse.GroundingMetadata: JSONReadable {
    /// `groundingSupports` (which text each source backs) and `searchEntryPoint` (Google's HTML widget)
    /// are not read: Anthropic's web search blocks have no place for them.
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.webSearchQueries = try fields.optional("webSearchQueries") ?? []
        let chunks: [JSONValue] = try fields.optional("groundingChunks") ?? []
        var sources: [Source] = []
        for (index, chunk) in chunks.enumerated() {
            guard let web = chunk["web"] else { continue }
            let source = try JSONFieldError.locate("groundingChunks") {
                try JSONFieldError.locate(String(index)) {
                    let fields = try JSONObjectReader(web)
                    return Source(uri: try fields.required("uri"), title: try fields.optional("title"))
                }
            }
            sources.append(source)
        }
        self.sources = sources
    }
}

extension GeminiResponse.UsageMetadata: JSONReadable {
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.promptTokenCount = try fields.optional("promptTokenCount")
        self.cachedContentTokenCount = try fields.optional("cachedContentTokenCount")
        self.candidatesTokenCount = try fields.optional("candidatesTokenCount")
        self.thoughtsTokenCount = try fields.optional("thoughtsTokenCount")
        self.toolUsePromptTokenCount = try fields.optional("toolUsePromptTokenCount")
    }

    /// In Anthropic's terms: input excludes what the cache served; output includes thinking.
    var anthropicUsage: AnthropicUsage {
        let cached = self.cachedContentTokenCount ?? 0
        let input = (self.promptTokenCount ?? 0) - cached + (self.toolUsePromptTokenCount ?? 0)
        return AnthropicUsage(
            inputTokens: max(0, input),
            outputTokens: (self.candidatesTokenCount ?? 0) + (self.thoughtsTokenCount ?? 0),
            cacheReadInputTokens: cached
        )
    }
}
