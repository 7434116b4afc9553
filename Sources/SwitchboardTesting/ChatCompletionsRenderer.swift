import Foundation

/// Shapes a ``ChatCompletionsAnswer`` as OpenAI sends it: a `chat.completion` object, or server-sent
/// `chat.completion.chunk` events.
///
/// A stream opens with a delta holding `role: "assistant"` — with `content: ""` before text or
/// reasoning, or with `content: null` and the first call's header when the answer is calls only, as
/// OpenAI does — then content, then an empty delta with the finish reason, then (the request asked for
/// it) a chunk with `"choices": []` and the usage, then `data: [DONE]`. Every other chunk has
/// `"usage": null`. OpenAI's chunks also carry `service_tier` and an `obfuscation` padding string, which
/// a client must ignore; Azure's stream opens with a `prompt_filter_results` chunk whose `choices` is
/// empty.
///
/// Token counts are the fake's: prompt tokens are a quarter of the request's bytes, completion tokens a
/// quarter of the bytes written (reasoning, text, calls' names and arguments), reasoning tokens a
/// quarter of the reasoning's, each rounded up.
struct ChatCompletionsRenderer {
    struct Context {
        let model: String
        let streamed: Bool
        let azure: Bool
        let promptTokens: Int
        /// One id, time and fingerprint for every chunk of a stream, as the real service sends.
        let id = "chatcmpl-\(FakeChatCompletionsServer.randomString(29))"
        let created = Int(Date().timeIntervalSince1970)
        let fingerprint = "fp_\(FakeChatCompletionsServer.randomString(10, from: "0123456789abcdef"))"
    }

    let context: Context

    // MARK: - JSON

    func completion(_ answer: ChatCompletionsAnswer, _ delivery: ChatCompletionsAnswer.Delivery) -> [String: Any] {
        var message: [String: Any] = [
            "role": "assistant", "content": answer.text ?? NSNull(), "refusal": NSNull(), "annotations": [],
        ]
        if !answer.calls.isEmpty {
            message["tool_calls"] = answer.calls.map { call in
                ["id": call.id, "type": "function", "function": ["name": call.name, "arguments": call.arguments]]
            }
        }
        if let reasoning = answer.reasoning { message[answer.reasoningField.rawValue] = reasoning }
        let choice: [String: Any] = [
            "index": 0, "message": message, "logprobs": NSNull(), "finish_reason": answer.finishReason,
        ]
        var body: [String: Any] = [
            "id": self.context.id,
            "object": "chat.completion",
            "created": self.context.created,
            "model": self.context.model,
            "choices": [choice],
            "usage": self.usage(answer, delivery),
            "system_fingerprint": self.context.fingerprint,
        ]
        if self.context.azure {
            body["prompt_filter_results"] = Self.promptFilterResults
        } else {
            body["service_tier"] = "default"
        }
        return body
    }

    // MARK: - Stream

    func events(_ answer: ChatCompletionsAnswer, _ delivery: ChatCompletionsAnswer.Delivery) -> [String] {
        var deltas = Self.contentDeltas(answer, delivery.arguments)
        let role: [String: Any] = ["role": "assistant", "refusal": NSNull()]
        if answer.text == nil, answer.reasoning == nil, !deltas.isEmpty {
            deltas[0].merge(role) { $1 }
            deltas[0]["content"] = NSNull()
        } else {
            deltas.insert(role.merging(["content": ""]) { $1 }, at: 0)
        }
        var events: [String] = []
        if self.context.azure {
            let filter: [String: Any] = [
                "choices": [], "created": 0, "id": "", "model": "", "object": "",
                "prompt_filter_results": Self.promptFilterResults,
            ]
            events.append(Self.event(filter))
        }
        switch delivery.ending {
        case .truncated, .midStreamError:
            // The role and at least one piece of content, never all of it.
            let kept = deltas.prefix(max(2, min(deltas.count - 1, (deltas.count + 1) / 2)))
            events += kept.map { Self.event(self.chunk(choices: [Self.choice($0)])) }
            if delivery.ending == .midStreamError {
                let error: [String: Any] = [
                    "message": "The server had an error while processing your request. Sorry about that!",
                    "type": "server_error",
                    "param": NSNull(),
                    "code": NSNull(),
                ]
                events.append(Self.event(["error": error]))
            }
        case .done, .noDone:
            events += deltas.map { Self.event(self.chunk(choices: [Self.choice($0)])) }
            events.append(Self.event(self.chunk(choices: [Self.choice([:], finishReason: answer.finishReason)])))
            let choices: Any = delivery.nullChoicesOnUsage ? NSNull() : [Any]()
            events.append(Self.event(self.chunk(choices: choices, usage: self.usage(answer, delivery))))
            if delivery.ending == .done { events.append("data: [DONE]\n\n") }
        }
        guard delivery.keepAlive else { return events }
        return events.enumerated().flatMap { index, event in index == 0 ? [event] : [": keep-alive\n\n", "\n", event] }
    }

    private func chunk(choices: Any, usage: Any = NSNull()) -> [String: Any] {
        var chunk: [String: Any] = [
            "id": self.context.id,
            "object": "chat.completion.chunk",
            "created": self.context.created,
            "model": self.context.model,
            "system_fingerprint": self.context.fingerprint,
            "choices": choices,
            "usage": usage,
        ]
        if !self.context.azure {
            chunk["service_tier"] = "default"
            chunk["obfuscation"] = FakeChatCompletionsServer.randomString(Int.random(in: 2...12))
        }
        return chunk
    }

    private static func choice(_ delta: [String: Any], finishReason: String? = nil) -> [String: Any] {
        ["index": 0, "delta": delta, "logprobs": NSNull(), "finish_reason": finishReason ?? NSNull()]
    }

    private static func event(_ object: [String: Any]) -> String {
        "data: \(FakeChatCompletionsServer.serialize(object))\n\n"
    }

    /// The deltas after the role: reasoning, then text, then calls.
    private static func contentDeltas(
        _ answer: ChatCompletionsAnswer,
        _ arguments: ChatCompletionsAnswer.Delivery.Arguments
    ) -> [[String: Any]] {
        var deltas: [[String: Any]] = []
        let deepSeek = answer.reasoning != nil && answer.reasoningField == .reasoningContent
        for piece in pieces(of: answer.reasoning ?? "", size: 8) {
            // DeepSeek sends `content: null` beside its reasoning, and `reasoning_content: null` beside the text.
            deltas.append(deepSeek ? ["content": NSNull(), "reasoning_content": piece] : ["reasoning": piece])
        }
        for piece in pieces(of: answer.text ?? "", size: 8) {
            deltas.append(deepSeek ? ["content": piece, "reasoning_content": NSNull()] : ["content": piece])
        }
        func header(_ index: Int, _ call: ChatCompletionsAnswer.Call, arguments: String) -> [String: Any] {
            let fragment: [String: Any] = [
                "index": index, "id": call.id, "type": "function",
                "function": ["name": call.name, "arguments": arguments],
            ]
            return ["tool_calls": [fragment]]
        }
        func fragments(_ index: Int, _ call: ChatCompletionsAnswer.Call) -> [[String: Any]] {
            pieces(of: call.arguments, size: 4).map { piece in
                let fragment: [String: Any] = ["index": index, "function": ["arguments": piece]]
                return ["tool_calls": [fragment]]
            }
        }
        let calls = Array(answer.calls.enumerated())
        switch arguments {
        case .whole:
            deltas += calls.map { header($0, $1, arguments: $1.arguments) }
        case .fragments:
            for (index, call) in calls { deltas += [header(index, call, arguments: "")] + fragments(index, call) }
        case .interleaved:
            deltas += calls.map { header($0, $1, arguments: "") }
            var queues = calls.map { fragments($0, $1) }
            while queues.contains(where: { !$0.isEmpty }) {
                for index in queues.indices where !queues[index].isEmpty { deltas.append(queues[index].removeFirst()) }
            }
        }
        return deltas
    }

    /// `text` in pieces of `size` characters.
    private static func pieces(of text: String, size: Int) -> [String] {
        let characters = Array(text)
        return stride(from: 0, to: characters.count, by: size).map {
            String(characters[$0..<min($0 + size, characters.count)])
        }
    }

    // MARK: - Usage

    private func usage(_ answer: ChatCompletionsAnswer, _ delivery: ChatCompletionsAnswer.Delivery) -> [String: Any] {
        func tokens(_ text: String) -> Int { (text.utf8.count + 3) / 4 }
        let reasoning = tokens(answer.reasoning ?? "")
        let completion =
            reasoning + tokens(answer.text ?? "") + answer.calls.reduce(0) { $0 + tokens($1.name + $1.arguments) }
        let prompt = self.context.promptTokens
        return [
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": ["cached_tokens": delivery.cached ? prompt / 2 : 0, "audio_tokens": 0],
            "completion_tokens_details": [
                "reasoning_tokens": reasoning, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            ],
        ]
    }

    /// Azure's verdict on the prompt: nothing filtered.
    private static var promptFilterResults: [[String: Any]] {
        let safe: [String: Any] = ["filtered": false, "severity": "safe"]
        let results: [String: Any] = ["hate": safe, "self_harm": safe, "sexual": safe, "violence": safe]
        return [["prompt_index": 0, "content_filter_results": results]]
    }
}
