/// What Switchboard needs to know about a Gemini model, from its id.
enum GeminiModelFamily: Sendable, Equatable {
    /// Gemini 3.x: thinking by `thinkingLevel`; thought signatures validated.
    case gemini3(isPro: Bool)
    /// Gemini 2.x: thinking by `thinkingBudget` within `budgetRange`; `minimumBudget` when "off" is
    /// not possible (2.5 Pro).
    case gemini2(budgetRange: ClosedRange<Int>, canDisable: Bool)
    case other

    /// `id` is bare (`gemini-2.5-pro`): the provider strips a `models/` prefix before translating.
    init(model id: String) {
        if id.hasPrefix("gemini-3") {
            self = .gemini3(isPro: id.contains("-pro"))
        } else if id.hasPrefix("gemini-2.5-pro") {
            self = .gemini2(budgetRange: 128...32_768, canDisable: false)
        } else if id.hasPrefix("gemini-2.5-flash-lite") {
            self = .gemini2(budgetRange: 512...24_576, canDisable: true)
        } else if id.hasPrefix("gemini-2.5") {
            self = .gemini2(budgetRange: 1...24_576, canDisable: true)
        } else {
            self = .other
        }
    }

    var validatesThoughtSignatures: Bool {
        if case .gemini3 = self { true } else { false }
    }

    /// The most output tokens these models produce.
    var maximumOutputTokens: Int? {
        switch self {
        case .gemini3, .gemini2: 65_536
        case .other: nil
        }
    }

    /// Anthropic's `thinking` (and `output_config.effort`) as Gemini's `thinkingConfig`: a budget on
    /// 2.x, clamped to the model's range; a level on 3.x; never both.
    func thinkingConfig(thinking: JSONValue?, effort: String?) -> GeminiThinkingConfig? {
        guard let thinking, let type = thinking["type"]?.stringValue else { return nil }
        let includeThoughts = thinking["display"]?.stringValue != "omitted"
        switch (self, type) {
        case (.gemini3(let isPro), "disabled"):
            return GeminiThinkingConfig(thinkingLevel: isPro ? "low" : "minimal", includeThoughts: false)
        case (.gemini3, "enabled"):
            let budget = Self.budget(of: thinking) ?? 8192
            let level = budget < 4096 ? "low" : budget < 16_384 ? "medium" : "high"
            return GeminiThinkingConfig(thinkingLevel: level, includeThoughts: includeThoughts)
        case (.gemini3, "adaptive"):
            let level = switch effort { case "low": "low"; case "medium": "medium"; default: "high" }
            return GeminiThinkingConfig(thinkingLevel: level, includeThoughts: includeThoughts)
        case (.gemini2(let range, let canDisable), "disabled"):
            return GeminiThinkingConfig(thinkingBudget: canDisable ? 0 : range.lowerBound, includeThoughts: false)
        case (.gemini2(let range, _), "enabled"):
            let budget = min(max(Self.budget(of: thinking) ?? range.lowerBound, range.lowerBound), range.upperBound)
            return GeminiThinkingConfig(thinkingBudget: budget, includeThoughts: includeThoughts)
        case (.gemini2(let range, _), "adaptive"):
            let budget = switch effort {
            case "low": min(max(1024, range.lowerBound), range.upperBound)
            case "medium": min(8192, range.upperBound)
            default: -1  // dynamic: the model decides
            }
            return GeminiThinkingConfig(thinkingBudget: budget, includeThoughts: includeThoughts)
        default:
            return nil
        }
    }

    /// Read as the request decoder reads integers: `1e20` is no budget, rather than a trap converting it.
    private static func budget(of thinking: JSONValue) -> Int? {
        try? thinking["budget_tokens"]?.asInt()
    }
}
