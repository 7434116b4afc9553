/// What a provider's model id may contain. Ids go into URL paths (Gemini's `models/{id}:generateContent`,
/// Vertex's `…/models/{id}:rawPredict`), so anything that could change the path or the method is refused.
enum UpstreamModelID {
    static let maximumLength = 256

    /// Why `id` is not a valid model id for `provider`, or nil when it is.
    ///
    /// Letters, digits, `.`, `_` and `-` everywhere; `@` and `:` where a provider's ids use them
    /// (Anthropic ids on Vertex and Bedrock: `claude-sonnet-4@20250514`, `…-v1:0`; never `:` on Vertex, where
    /// it starts the method); Gemini ids may start with `models/` or `tunedModels/`. A `.` or `..` alone is
    /// never an id.
    static func problem(with id: String, for provider: ProviderKind) -> String? {
        var name = Substring(id)
        if provider == .gemini {
            for prefix in ["models/", "tunedModels/"] where name.hasPrefix(prefix) {
                name = name.dropFirst(prefix.count)
                break
            }
        }
        guard !name.isEmpty, name.utf8.count <= Self.maximumLength else {
            return "it must have 1 to \(Self.maximumLength) characters"
        }
        guard name != ".", name != ".." else { return "'.' and '..' are not model ids" }
        let extra: Set<Unicode.Scalar> =
            switch provider {
            case .gemini: []
            case .vertexAI: ["@"]
            case .anthropic, .mock: ["@", ":"]
            // Azure's deployment is a path segment; every other service takes the id in the body, where
            // ids such as `meta-llama/Llama-3.3-70B`, `qwen3:8b` or `openai/gpt-oss-120b:free` are usual.
            case .azure: []
            case .openai, .deepseek, .mistral, .groq, .openrouter, .xai, .togetherAI, .fireworksAI, .cerebras,
                .hostedVLLM, .ollamaChat, .ollama, .lmStudio:
                ["@", ":", "/"]
            }
        for scalar in name.unicodeScalars where !(Self.isBasic(scalar) || extra.contains(scalar)) {
            let allowed = "letters, digits, '.', '_', '-'" + extra.sorted().map { ", '\($0)'" }.joined()
            return "it contains '\(scalar.escaped(asASCII: true))'; a \(provider.rawValue) model id has only \(allowed)"
        }
        return nil
    }

    private static func isBasic(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }
}
