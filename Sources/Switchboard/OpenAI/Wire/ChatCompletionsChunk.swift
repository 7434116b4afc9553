/// One streamed `chat.completion.chunk`, or a whole `chat.completion` read the same way (its `message`
/// taken as one delta). Only what the translation uses is read; services add fields freely.
struct ChatCompletionsChunk {
    struct ToolCallFragment {
        /// Which call of the answer this fragment belongs to; a whole answer's calls count from 0.
        var index: Int
        var id: String?
        var name: String?
        var arguments: String?
    }

    struct Usage {
        var promptTokens = 0
        var completionTokens = 0
        var cachedTokens = 0
        var reasoningTokens = 0
    }

    var content: String?
    /// `reasoning_content` (DeepSeek, vLLM, Groq's parsed format) or `reasoning` (OpenRouter, Ollama, vLLM).
    var reasoning: String?
    var refusal: String?
    var toolCalls: [ToolCallFragment] = []
    var finishReason: String?
    /// vLLM: the stop sequence that ended the answer.
    var stopSequence: String?
    var usage: Usage?

    init(json: JSONValue) throws {
        guard case .object = json else { throw JSONFieldError.expected("an object") }
        if case .array(let choices)? = json["choices"], let choice = choices.first {
            let delta = choice["delta"] ?? choice["message"]
            self.content = delta?["content"]?.stringValue
            self.reasoning = delta?["reasoning_content"]?.stringValue ?? delta?["reasoning"]?.stringValue
            self.refusal = delta?["refusal"]?.stringValue
            if case .array(let calls)? = delta?["tool_calls"] {
                for (position, call) in calls.enumerated() {
                    var index = position
                    if case .number(let number)? = call["index"], let exact = Int(exactly: number) { index = exact }
                    self.toolCalls.append(ToolCallFragment(
                        index: index,
                        id: call["id"]?.stringValue,
                        name: call["function"]?["name"]?.stringValue,
                        arguments: Self.arguments(call["function"]?["arguments"])
                    ))
                }
            }
            self.finishReason = choice["finish_reason"]?.stringValue
            self.stopSequence = choice["stop_reason"]?.stringValue
        }
        if let usage = json["usage"], case .object = usage {
            func int(_ value: JSONValue?) -> Int {
                if case .number(let number)? = value, let exact = Int(exactly: number.rounded()) { return max(0, exact) }
                return 0
            }
            self.usage = Usage(
                promptTokens: int(usage["prompt_tokens"]),
                completionTokens: int(usage["completion_tokens"]),
                // OpenAI's cached prompt tokens; DeepSeek reports them as cache hits.
                cachedTokens: max(int(usage["prompt_tokens_details"]?["cached_tokens"]), int(usage["prompt_cache_hit_tokens"])),
                reasoningTokens: int(usage["completion_tokens_details"]?["reasoning_tokens"])
            )
        }
    }

    /// Arguments are a JSON string; a few servers send the object itself.
    private static func arguments(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: text
        case .object?: value!.jsonText
        default: nil
        }
    }
}
