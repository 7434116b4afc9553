/// What ``FakeChatCompletionsServer`` answers, before it is shaped as a stream or a JSON body.
struct ChatCompletionsAnswer {
    struct Call {
        /// `call_` and 24 random letters and digits, as OpenAI's are.
        let id: String
        let name: String
        /// The arguments as the model wrote them: a JSON object, unless a script spoils it.
        let arguments: String
    }

    /// Where a compatible server puts the model's reasoning.
    enum ReasoningField: String {
        /// DeepSeek's.
        case reasoningContent = "reasoning_content"
        /// vLLM's and OpenRouter's.
        case reasoning
    }

    var reasoning: String?
    var reasoningField = ReasoningField.reasoningContent
    var text: String?
    var calls: [Call] = []
    var finishReason: String

    /// How a stream carries an answer, and what it does around it.
    struct Delivery {
        enum Arguments {
            /// OpenAI's way: the call's id, type and name with empty arguments, then the arguments in
            /// fragments of a few characters, each call after the previous.
            case fragments
            /// The whole arguments with the id and name.
            case whole
            /// Both calls' headers, then their fragments alternating between index 0 and 1.
            case interleaved
        }

        enum Ending {
            /// The finish reason, the usage chunk, `data: [DONE]`.
            case done
            /// The finish reason and the usage chunk, without `[DONE]`.
            case noDone
            /// Half the content, then the body ends: no finish reason, usage or `[DONE]`.
            case truncated
            /// Half the content, then a `data: {"error": …}` event, then the body ends.
            case midStreamError
        }

        var arguments = Arguments.fragments
        var ending = Ending.done
        /// SSE comments and blank lines between the events, as proxies and OpenRouter send.
        var keepAlive = false
        /// `"choices": null` rather than `[]` on the usage chunk, as some compatible servers send.
        var nullChoicesOnUsage = false
        /// Half the prompt tokens reported as read from the cache.
        var cached = false
        var silence: Duration = .zero
    }
}
