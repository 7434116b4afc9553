import Foundation

extension FakeChatCompletionsServer {
    /// What a completion answers: an answer and how a stream carries it, or an error.
    enum Script {
        case answer(ChatCompletionsAnswer, ChatCompletionsAnswer.Delivery)
        case failure(Reply)

        static func text(
            _ text: String,
            finishReason: String = "stop",
            _ delivery: ChatCompletionsAnswer.Delivery = .init()
        ) -> Script {
            .answer(ChatCompletionsAnswer(text: text, finishReason: finishReason), delivery)
        }

        static func calls(
            _ calls: [(name: String, arguments: String)],
            arguments: ChatCompletionsAnswer.Delivery.Arguments = .fragments
        ) -> Script {
            let made = calls.map {
                ChatCompletionsAnswer.Call(id: "call_\(randomString(24))", name: $0.name, arguments: $0.arguments)
            }
            return .answer(ChatCompletionsAnswer(calls: made, finishReason: "tool_calls"), .init(arguments: arguments))
        }
    }

    /// Chooses the answer from the prompt — the last user message with text that does not follow a tool
    /// message (Claude Code's reminder text after tool results is not a new prompt) — and its
    /// `fake:NAME argument` directive:
    ///
    /// | directive | answer |
    /// |---|---|
    /// | (none), `fake:text` | `fake-openai heard: <prompt>` |
    /// | `call NAME {json}` | one call, its arguments streamed in fragments of 4 characters |
    /// | `whole-args NAME {json}` | one call, its arguments in the call's first chunk |
    /// | `parallel NAME` | two calls, `{"n":1}` and `{"n":2}`, one after the other |
    /// | `interleaved NAME` | two calls whose argument fragments alternate between index 0 and 1 |
    /// | `chain NAME` | a call with `{"step":1}`, and after its result one with `{"step":2}` |
    /// | `parallel`/`interleaved`/`chain NAME {"each":[{…},{…}]}` | the same, with these two arguments objects |
    /// | `bad-args NAME` | a call whose arguments are not JSON |
    /// | `reasoning` | DeepSeek's `reasoning_content` before the text |
    /// | `reasoning-field` | vLLM's and OpenRouter's `reasoning` before the text |
    /// | `error STATUS` | OpenAI's error for 400, 401, 403, 404, 429 (with `retry-after: 7`), 500, 503 |
    /// | `overflow` | 400 `context_length_exceeded` |
    /// | `max-tokens`, `content-filter` | cut-off text, finish reason `length` / `content_filter` |
    /// | `mid-stream-error` | a 200 stream that breaks off with a `data: {"error": …}` event |
    /// | `truncate` | a stream that stops without a finish reason, usage or `[DONE]` |
    /// | `no-done` | a complete stream without `data: [DONE]` |
    /// | `keepalive` | `: keep-alive` comments and blank lines between the events |
    /// | `null-choices` | the usage chunk with `"choices": null` |
    /// | `cached` | half the prompt tokens reported as `cached_tokens` |
    /// | `silence SECONDS` | the answer after SECONDS of silence (streamed: after the head) |
    ///
    /// A request ending in tool results answers `fake-openai got N tool results: …`, so tool loops end,
    /// unless the prompt's `fake:chain` still owes its second call. The stream-shape directives change
    /// nothing in a non-streamed answer.
    static func script(for body: [String: Any], model: String) -> Script {
        let messages = body["messages"] as? [[String: Any]] ?? []
        let promptIndex = self.promptIndex(messages)
        let prompt = promptIndex.map { texts(of: messages[$0]).joined(separator: "\n") } ?? ""
        let directive = FakeDirective(in: prompt)

        let results = self.toolResults(messages, after: promptIndex)
        if !results.isEmpty {
            let steps = messages[((promptIndex ?? -1) + 1)...].filter { $0["tool_calls"] is [Any] }.count
            if directive?.name == "chain", let name = directive?.firstWord, steps == 1 {
                return .calls([(name, self.pair(directive!, #"{"step":1}"#, #"{"step":2}"#).1)])
            }
            return .text("fake-openai got \(results.count) tool results: \(results.joined(separator: " "))")
        }

        let heard = "fake-openai heard: \(prompt)"
        guard let directive else { return .text(heard) }
        let name = directive.firstWord
        let arguments = serialize(directive.jsonObject ?? [String: Any]())
        switch directive.name {
        case "call" where name != nil:
            return .calls([(name!, arguments)])
        case "whole-args" where name != nil:
            return .calls([(name!, arguments)], arguments: .whole)
        case "parallel" where name != nil:
            let (first, second) = self.pair(directive, #"{"n":1}"#, #"{"n":2}"#)
            return .calls([(name!, first), (name!, second)])
        case "interleaved" where name != nil:
            let (first, second) = self.pair(
                directive, #"{"n":1,"note":"the first of two calls"}"#, #"{"n":2,"note":"the second of two calls"}"#
            )
            return .calls([(name!, first), (name!, second)], arguments: .interleaved)
        case "chain" where name != nil:
            return .calls([(name!, self.pair(directive, #"{"step":1}"#, #"{"step":2}"#).0)])
        case "bad-args" where name != nil:
            return .calls([(name!, #"{"path": "/tmp/fake", "oops"#)])
        case "reasoning", "reasoning-field":
            let field: ChatCompletionsAnswer.ReasoningField =
                directive.name == "reasoning" ? .reasoningContent : .reasoning
            return .answer(
                ChatCompletionsAnswer(
                    reasoning: "Let me think about that for a moment.",
                    reasoningField: field,
                    text: heard,
                    finishReason: "stop"
                ),
                .init()
            )
        case "error":
            return .failure(self.scriptedError(directive.firstWord.flatMap { Int($0) } ?? 500, model: model))
        case "overflow":
            return .failure(
                self.failure(
                    400,
                    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. "
                        + "Please reduce the length of the messages.",
                    param: "messages",
                    code: "context_length_exceeded"
                )
            )
        case "max-tokens":
            return .text("fake-openai was cut off in the middle of", finishReason: "length")
        case "content-filter":
            return .text("fake-openai started to say", finishReason: "content_filter")
        case "mid-stream-error":
            return .text(heard, .init(ending: .midStreamError))
        case "truncate":
            return .text(heard, .init(ending: .truncated))
        case "no-done":
            return .text(heard, .init(ending: .noDone))
        case "keepalive":
            return .text(heard, .init(keepAlive: true))
        case "null-choices":
            return .text(heard, .init(nullChoicesOnUsage: true))
        case "cached":
            return .text(heard, .init(cached: true))
        case "silence":
            return .text(heard, .init(silence: .seconds(directive.firstWord.flatMap { Double($0) } ?? 0)))
        default:
            // fake:text, a call directive without a name, and anything unknown: the plain answer.
            return .text(heard)
        }
    }

    /// The two arguments objects of a two-call directive: its `{"each": [first, second]}`, else the defaults.
    private static func pair(_ directive: FakeDirective, _ first: String, _ second: String) -> (String, String) {
        guard let each = directive.jsonObject?["each"] as? [[String: Any]], each.count == 2 else { return (first, second) }
        return (serialize(each[0]), serialize(each[1]))
    }

    private static func role(_ message: [String: Any]) -> String? {
        message["role"] as? String
    }

    private static func promptIndex(_ messages: [[String: Any]]) -> Int? {
        let userTexts = messages.indices.filter {
            role(messages[$0]) == "user" && !texts(of: messages[$0]).allSatisfy(\.isEmpty)
        }
        return userTexts.last { $0 == 0 || role(messages[$0 - 1]) != "tool" } ?? userTexts.last
    }

    /// The contents of the tool messages answering the last assistant message, when it came after the
    /// prompt and made calls.
    private static func toolResults(_ messages: [[String: Any]], after promptIndex: Int?) -> [String] {
        guard let assistant = messages.indices.last(where: { role(messages[$0]) == "assistant" }),
            assistant > (promptIndex ?? -1),
            messages[assistant]["tool_calls"] is [Any]
        else { return [] }
        return messages[(assistant + 1)...].filter { role($0) == "tool" }.map { texts(of: $0).joined(separator: " ") }
    }

    private static func scriptedError(_ status: Int, model: String) -> Reply {
        switch status {
        case 400:
            return failure(400, "fake-openai was told to refuse this request.")
        case 401:
            return incorrectKey("sk-fake-scripted-key")
        case 403:
            return failure(403, "Project `proj_fake` does not have access to model `\(model)`", code: "model_not_found")
        case 404:
            return failure(
                404,
                "The model `\(model)` does not exist or you do not have access to it.",
                code: "model_not_found"
            )
        case 429:
            return failure(
                429,
                "Rate limit reached for \(model) in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1. "
                    + "Please try again in 7s. Visit https://platform.openai.com/account/rate-limits to learn more.",
                type: "requests",
                code: "rate_limit_exceeded",
                headers: [
                    ("retry-after", "7"),
                    ("x-ratelimit-limit-requests", "500"),
                    ("x-ratelimit-remaining-requests", "0"),
                    ("x-ratelimit-reset-requests", "6m0s"),
                    ("x-ratelimit-limit-tokens", "30000"),
                    ("x-ratelimit-remaining-tokens", "29500"),
                    ("x-ratelimit-reset-tokens", "1s"),
                ]
            )
        case 500:
            return failure(
                500,
                "The server had an error while processing your request. Sorry about that!",
                type: "server_error"
            )
        case 503:
            return failure(503, "The engine is currently overloaded, please try again later", type: "server_error")
        default:
            return failure(
                status,
                "fake-openai scripted error \(status)",
                type: status >= 500 ? "server_error" : "invalid_request_error"
            )
        }
    }
}
