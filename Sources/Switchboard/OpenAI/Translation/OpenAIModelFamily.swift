/// What a model id behind a Chat Completions endpoint says about the parameters it takes.
struct OpenAIModelFamily: Sendable {
    /// The id without an organisation prefix (`openai/gpt-oss-120b` on Groq and OpenRouter → `gpt-oss-120b`).
    let name: String

    init(model: String) {
        self.name = String(model.split(separator: "/").last ?? Substring(model)).lowercased()
    }

    /// OpenAI's reasoning models: o1, o3, o4-mini, gpt-5 (not the chat variant), codex; and the open-weight
    /// gpt-oss, which the services hosting it run with `reasoning_effort`.
    var isReasoning: Bool {
        let name = self.name
        if name.hasPrefix("gpt-5") { return !name.hasPrefix("gpt-5-chat") }
        if name.hasPrefix("gpt-oss") || name.hasPrefix("codex") { return true }
        guard name.first == "o", let digit = name.dropFirst().first else { return false }
        return digit.isNumber
    }

    /// Whether `reasoning_effort` may go with a request: OpenAI's reasoning models, gpt-oss, and xAI's
    /// grok-3-mini. Other models (DeepSeek's reasoner among them) reason or not by themselves, and some
    /// refuse the parameter.
    var takesReasoningEffort: Bool {
        self.isReasoning || self.name.hasPrefix("grok-3-mini")
    }

    /// The most completion tokens the model may be asked for, where it is known; a larger `max_tokens`
    /// (Claude Code asks for 32,000) is cut to it rather than refused.
    var maximumOutputTokens: Int? {
        let name = self.name
        if name.hasPrefix("gpt-4o") { return 16_384 }
        if name.hasPrefix("gpt-4.1") { return 32_768 }
        if name.hasPrefix("gpt-4-turbo") || name == "gpt-4" { return 4_096 }
        if name.hasPrefix("gpt-3.5") { return 4_096 }
        if name.hasPrefix("gpt-5-chat") { return 16_384 }
        if name.hasPrefix("gpt-5") { return 128_000 }
        if name == "deepseek-chat" { return 8_192 }
        if name == "deepseek-reasoner" { return 65_536 }
        if self.isReasoning && !name.hasPrefix("gpt-oss") { return 100_000 }
        return nil
    }

    /// The effort for Anthropic's `thinking` budget, on the thresholds of LiteLLM's Anthropic adapter (what a
    /// Claude Code user behind LiteLLM gets); `output_config.effort`, when the client set it, wins. `minimal`
    /// goes only to gpt-5 models, the ones that take it; others get `low`. Nil leaves the model's default.
    func reasoningEffort(thinking: JSONValue?, effort: String?) -> String? {
        var chosen: String?
        if let effort, ["minimal", "low", "medium", "high"].contains(effort) {
            chosen = effort
        } else if effort == "max" || effort == "xhigh" {
            chosen = "high"
        } else if thinking?["type"]?.stringValue == "enabled" {
            let budget = if case .number(let budget)? = thinking?["budget_tokens"] { budget } else { 0.0 }
            switch budget {
            case 10_000...: chosen = "high"
            case 5_000...: chosen = "medium"
            case 2_000...: chosen = "low"
            default: chosen = "minimal"
            }
        }
        if chosen == "minimal", !self.name.hasPrefix("gpt-5") { chosen = "low" }
        if self.name.hasPrefix("grok-3-mini"), let effort = chosen {
            chosen = effort == "low" ? "low" : "high"  // xAI takes only these two
        }
        return chosen
    }
}
