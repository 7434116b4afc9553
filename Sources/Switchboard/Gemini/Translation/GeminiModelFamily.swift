/// What Switchboard needs to know about a Gemini model, from its id.
///
/// Ids the table does not know — aliases such as `gemini-flash-latest` and `gemini-pro-latest`, experimental
/// (`gemini-exp-*`) and tuned models, releases newer than this build — get the newest family's rules:
/// an alias points at a current model, and the newest rules are what a current model enforces (Gemini 3
/// rejects a call without its thought signature). Only ids known to be older get older rules. A deployment
/// whose id misleads (an alias moved back to 2.5) names its real model in `model_info.base_model`.
enum GeminiModelFamily: Sendable, Equatable {
    /// Gemini 3.x: thinking by `thinkingLevel`; thought signatures validated; Google Search combines
    /// with function declarations (`toolConfig.includeServerSideToolInvocations`).
    case gemini3(isPro: Bool)
    /// Gemini 2.5: thinking by `thinkingBudget` within `budgetRange`; `minimumBudget` when "off" is
    /// not possible (2.5 Pro).
    case gemini2(budgetRange: ClosedRange<Int>, canDisable: Bool)
    /// Models before 2.5 (1.x, 2.0) and Gemma: no thinking configuration, no tool combination.
    case other

    /// `id` is bare (`gemini-2.5-pro`): the provider strips a `models/` prefix before translating.
    init(model id: String) {
        self = Self.known(id) ?? .gemini3(isPro: id.contains("-pro"))
    }

    /// The family a `model_info.base_model` names, or nil when the table knows no such model: an
    /// override must say something the table can check, not fall back to the default it overrides.
    init?(baseModel id: String) {
        guard let family = Self.known(id.hasPrefix("gemini/") ? String(id.dropFirst(7)) : id) else { return nil }
        self = family
    }

    /// The family of an id the table knows; nil for any other.
    private static func known(_ id: String) -> GeminiModelFamily? {
        if id.hasPrefix("gemini-2.5-pro") { return .gemini2(budgetRange: 128...32_768, canDisable: false) }
        if id.hasPrefix("gemini-2.5-flash-lite") { return .gemini2(budgetRange: 512...24_576, canDisable: true) }
        if id.hasPrefix("gemini-2.5") { return .gemini2(budgetRange: 1...24_576, canDisable: true) }
        if id.hasPrefix("gemini-3") { return .gemini3(isPro: id.contains("-pro")) }
        if Self.olderPrefixes.contains(where: { id.hasPrefix($0) }) { return .other }
        return nil
    }

    /// Ids of the models older than 2.5 that the Gemini API has served.
    private static let olderPrefixes = ["gemini-1.", "gemini-2.0", "gemini-pro-vision", "gemma-", "learnlm-"]

    /// Whether Google Search can go in one request with function declarations (Gemini 3 only; 2.5
    /// answers "Tool call context circulation is not enabled for models/…").
    var combinesSearchWithFunctions: Bool {
        if case .gemini3 = self { true } else { false }
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
