/// A rough token count where no model counted: about four bytes of UTF-8 per token, the rule of thumb
/// for English and code. Good enough for a mock and for a fallback that says it is an estimate.
enum TokenEstimator {
    static func tokens(inText text: String) -> Int {
        (text.utf8.count + 3) / 4
    }

    /// An estimate of the input tokens of `request`: system prompt, message content and tool definitions.
    static func inputTokens(of request: AnthropicRequest) -> Int {
        var bytes = 0
        for block in request.system?.blocks ?? [] { bytes += block.utf8.count }
        for message in request.messages {
            bytes += 16  // role and framing
            for block in message.content { bytes += Self.bytes(in: block) }
        }
        for tool in request.tools ?? [] {
            bytes += tool.name.utf8.count + (tool.description?.utf8.count ?? 0)
            bytes += tool.inputSchema?.jsonText.utf8.count ?? 0
        }
        return max(1, (bytes + 3) / 4)
    }

    private static func bytes(in block: AnthropicContentBlock) -> Int {
        switch block {
        case .text(let text): text.utf8.count
        case .toolUse(_, let name, let input): name.utf8.count + input.jsonText.utf8.count
        case .toolResult(_, let content, _): content.reduce(0) { $0 + Self.bytes(in: $1) }
        case .thinking(let thinking, _): thinking.utf8.count
        case .image, .document: 1600 * 4  // Anthropic bills a typical image at about 1,600 tokens
        case .redactedThinking, .other: 0
        }
    }
}
