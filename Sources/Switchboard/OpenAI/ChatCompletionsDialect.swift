/// What sets one OpenAI-compatible service apart from another: where it is by default, which environment
/// variables hold its key and base URL, and the few wire habits the translation must respect. The
/// defaults and variable names are LiteLLM's for the same prefix, so a LiteLLM config starts unchanged
/// (docs/openai-compatible.md has the table).
struct ChatCompletionsDialect: Sendable {
    let provider: ProviderKind
    /// The base URL (ending before `/chat/completions`) when neither `api_base` nor a variable gives one;
    /// nil when the deployment must say (a self-hosted server, an Azure resource).
    let defaultBase: String?
    /// Environment variables holding the base URL, in the order they are tried.
    let baseVariables: [String]
    /// Environment variables holding the API key, in the order they are tried.
    let keyVariables: [String]
    /// A hosted service refuses requests without a key; a local server usually takes none.
    let requiresKey: Bool
    /// The path after the base URL.
    let path: String
    /// OTel's `gen_ai.provider.name`.
    let genAIProviderName: String
    /// Mistral takes only tool-call ids of nine letters and digits.
    let toolCallIDs: ToolCallIDs.Style
    /// OpenAI and Azure take PDFs as `file` parts; the other services take no files at all.
    let takesFileParts: Bool
    /// The assistant-message field the model's earlier reasoning goes back in: DeepSeek's thinking models
    /// refuse a tool loop whose calls come back without their `reasoning_content`. Nil: reasoning stays behind.
    let reasoningEcho: String?
    /// OpenAI and Azure want reasoning models' instructions in a `developer` message, their limit in
    /// `max_completion_tokens`, and refuse sampling parameters on them.
    let followsOpenAIReasoningRules: Bool

    private init(
        _ provider: ProviderKind,
        base: String?,
        baseVariables: [String] = [],
        keyVariables: [String],
        requiresKey: Bool = true,
        path: String = "/chat/completions",
        genAI: String,
        toolCallIDs: ToolCallIDs.Style = .any,
        reasoningEcho: String? = nil,
        openAIRules: Bool = false
    ) {
        self.provider = provider
        self.defaultBase = base
        self.baseVariables = baseVariables
        self.keyVariables = keyVariables
        self.requiresKey = requiresKey
        self.path = path
        self.genAIProviderName = genAI
        self.toolCallIDs = toolCallIDs
        self.reasoningEcho = reasoningEcho
        self.takesFileParts = openAIRules
        self.followsOpenAIReasoningRules = openAIRules
    }

    /// The dialect of `provider`, or nil when it does not speak Chat Completions.
    static func of(_ provider: ProviderKind) -> ChatCompletionsDialect? {
        switch provider {
        case .anthropic, .mock, .gemini, .vertexAI:
            nil
        case .openai:
            ChatCompletionsDialect(
                .openai, base: "https://api.openai.com/v1", baseVariables: ["OPENAI_BASE_URL", "OPENAI_API_BASE"],
                keyVariables: ["OPENAI_API_KEY"], genAI: "openai", openAIRules: true
            )
        case .azure:
            // `{api_base}/openai/deployments/{deployment}/chat/completions?api-version=…` (ChatCompletionsSettings).
            ChatCompletionsDialect(
                .azure, base: nil, baseVariables: ["AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"],
                keyVariables: ["AZURE_OPENAI_API_KEY", "AZURE_API_KEY"], genAI: "azure.ai.openai", openAIRules: true
            )
        case .deepseek:
            ChatCompletionsDialect(
                .deepseek, base: "https://api.deepseek.com/beta", baseVariables: ["DEEPSEEK_API_BASE"],
                keyVariables: ["DEEPSEEK_API_KEY"], genAI: "deepseek", reasoningEcho: "reasoning_content"
            )
        case .mistral:
            ChatCompletionsDialect(
                .mistral, base: "https://api.mistral.ai/v1", baseVariables: ["MISTRAL_AZURE_API_BASE"],
                keyVariables: ["MISTRAL_AZURE_API_KEY", "MISTRAL_API_KEY"], genAI: "mistral_ai", toolCallIDs: .nineAlphanumerics
            )
        case .groq:
            ChatCompletionsDialect(
                .groq, base: "https://api.groq.com/openai/v1", baseVariables: ["GROQ_API_BASE"],
                keyVariables: ["GROQ_API_KEY"], genAI: "groq"
            )
        case .openrouter:
            ChatCompletionsDialect(
                .openrouter, base: "https://openrouter.ai/api/v1", baseVariables: ["OPENROUTER_API_BASE", "OR_API_BASE"],
                keyVariables: ["OPENROUTER_API_KEY", "OR_API_KEY"], genAI: "openrouter"
            )
        case .xai:
            ChatCompletionsDialect(
                .xai, base: "https://api.x.ai/v1", baseVariables: ["XAI_API_BASE"], keyVariables: ["XAI_API_KEY"],
                genAI: "x_ai"
            )
        case .togetherAI:
            ChatCompletionsDialect(
                .togetherAI, base: "https://api.together.xyz/v1", baseVariables: ["TOGETHER_AI_API_BASE", "TOGETHERAI_API_BASE"],
                keyVariables: ["TOGETHERAI_API_KEY", "TOGETHER_API_KEY", "TOGETHER_AI_API_KEY", "TOGETHER_AI_TOKEN"],
                genAI: "together_ai"
            )
        case .fireworksAI:
            ChatCompletionsDialect(
                .fireworksAI, base: "https://api.fireworks.ai/inference/v1",
                baseVariables: ["FIREWORKS_API_BASE", "FIREWORKS_AI_API_BASE"],
                keyVariables: ["FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY", "FIREWORKSAI_API_KEY", "FIREWORKS_AI_TOKEN"],
                genAI: "fireworks_ai"
            )
        case .cerebras:
            ChatCompletionsDialect(
                .cerebras, base: "https://api.cerebras.ai/v1", baseVariables: ["CEREBRAS_API_BASE"],
                keyVariables: ["CEREBRAS_API_KEY"], genAI: "cerebras"
            )
        case .hostedVLLM:
            ChatCompletionsDialect(
                .hostedVLLM, base: nil, baseVariables: ["HOSTED_VLLM_API_BASE"], keyVariables: ["HOSTED_VLLM_API_KEY"],
                requiresKey: false, genAI: "vllm"
            )
        case .ollamaChat, .ollama:
            // Ollama's OpenAI-compatible endpoint; LiteLLM uses Ollama's native /api/chat instead.
            ChatCompletionsDialect(
                provider, base: "http://localhost:11434", baseVariables: ["OLLAMA_API_BASE"],
                keyVariables: ["OLLAMA_API_KEY"], requiresKey: false, path: "/v1/chat/completions", genAI: "ollama"
            )
        case .lmStudio:
            ChatCompletionsDialect(
                .lmStudio, base: "http://localhost:1234/v1", baseVariables: ["LM_STUDIO_API_BASE"],
                keyVariables: ["LM_STUDIO_API_KEY"], requiresKey: false, genAI: "lm_studio"
            )
        }
    }
}

extension ProviderKind {
    /// The Chat Completions dialect this provider speaks, or nil.
    var chatCompletionsDialect: ChatCompletionsDialect? { ChatCompletionsDialect.of(self) }
}
