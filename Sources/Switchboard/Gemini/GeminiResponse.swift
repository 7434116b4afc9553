/// One `GenerateContentResponse`: the whole answer from `generateContent`, or one SSE chunk of
/// `streamGenerateContent` (holding only the new parts).
struct GeminiResponse: Sendable, Decodable {
    struct Candidate: Sendable, Decodable {
        var content: GeminiContent?
        var finishReason: String?
        var finishMessage: String?
    }

    struct UsageMetadata: Sendable, Decodable, Equatable {
        var promptTokenCount: Int?
        var cachedContentTokenCount: Int?
        var candidatesTokenCount: Int?
        var thoughtsTokenCount: Int?
        var toolUsePromptTokenCount: Int?
    }

    struct PromptFeedback: Sendable, Decodable {
        var blockReason: String?
    }

    var candidates: [Candidate]?
    var usageMetadata: UsageMetadata?
    var modelVersion: String?
    var responseId: String?
    var promptFeedback: PromptFeedback?
}

extension GeminiResponse.UsageMetadata {
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

/// Gemini's error body: `{"error": {"code", "message", "status", "details"}}`.
struct GeminiErrorBody: Sendable, Decodable {
    struct Detail: Sendable, Decodable {
        var type: String?
        var reason: String?
        var retryDelay: String?

        enum CodingKeys: String, CodingKey {
            case type = "@type"
            case reason, retryDelay
        }
    }

    struct Failure: Sendable, Decodable {
        var code: Int?
        var message: String?
        var status: String?
        var details: [Detail]?
    }

    var error: Failure
}
