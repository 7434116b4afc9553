import Foundation
import NIOCore
import Testing
import Upstream

@testable import Switchboard

@Suite("Chat Completions responses → Anthropic events")
struct ChatCompletionsResponseTranslatorTests {
    func run(_ chunks: [String], tools: Set<String> = ["Read", "Bash"]) throws
        -> (events: [AnthropicEvent], translator: ChatCompletionsResponseTranslator)
    {
        var translator = ChatCompletionsResponseTranslator(model: "gpt-x", declaredTools: tools, errors: .init(provider: "openai"))
        var events: [AnthropicEvent] = []
        for chunk in chunks {
            events += translator.consume(try ChatCompletionsChunk(json: JSONValue.parse(chunk)))
        }
        events += try translator.finish()
        return (events, translator)
    }

    func names(_ events: [AnthropicEvent]) -> [String] { events.map(\.name) }

    func toolUses(_ events: [AnthropicEvent]) -> [(id: String, name: String, input: String)] {
        var uses: [Int: (id: String, name: String, input: String)] = [:]
        for event in events {
            switch event {
            case .contentBlockStart(let index, .toolUse(let id, let name, _)): uses[index] = (id, name, "")
            case .contentBlockDelta(let index, .inputJSON(let json)): uses[index]?.input += json
            default: break
            }
        }
        return uses.keys.sorted().map { uses[$0]! }
    }

    static func delta(_ delta: String, finish: String? = nil) -> String {
        #"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(finish.map { "\"\($0)\"" } ?? "null")}]}"#
    }

    @Test("reasoning, then text, streamed as they come: a thinking block (signed) before the text block")
    func reasoningThenText() throws {
        for field in ["reasoning_content", "reasoning"] {
            let (events, _) = try self.run([
                Self.delta(#"{"role":"assistant","content":""}"#),
                Self.delta(#"{"\#(field)":"Let me think"}"#), Self.delta(#"{"\#(field)":" more."}"#),
                Self.delta(#"{"content":"Answer"}"#), Self.delta(#"{}"#, finish: "stop"),
                #"{"id":"c","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":40},"completion_tokens_details":{"reasoning_tokens":12}}}"#,
            ])
            #expect(names(events) == [
                "message_start", "content_block_start", "content_block_delta", "content_block_delta",
                "content_block_delta", "content_block_stop", "content_block_start", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop",
            ])
            guard case .contentBlockStart(0, .thinking) = events[1], case .contentBlockDelta(0, .signature) = events[4] else {
                Issue.record("a signed thinking block first (\(field))"); continue
            }
            guard case .messageDelta("end_turn", nil, let usage) = events[9] else { Issue.record("end_turn expected"); continue }
            #expect(usage == AnthropicUsage(inputTokens: 60, outputTokens: 20, cacheReadInputTokens: 40))
        }
    }

    @Test("a call's arguments split across many chunks, and parallel calls interleaved by index, arrive whole and distinct")
    func splitAndInterleaved() throws {
        let (events, translator) = try self.run([
            Self.delta(#"{"content":"Reading both."}"#),
            Self.delta(#"{"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"Read","arguments":""}}]}"#),
            Self.delta(#"{"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"Read","arguments":"{\"pa"}}]}"#),
            Self.delta(#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]}"#),
            Self.delta(#"{"tool_calls":[{"index":1,"function":{"arguments":"th\":\"b\"}"}}]}"#),
            Self.delta(#"{"tool_calls":[{"index":0,"function":{"arguments":"\"a\"}"}}]}"#),
            Self.delta(#"{}"#, finish: "tool_calls"),
        ])
        let uses = toolUses(events)
        #expect(uses.map(\.id) == ["call_A", "call_B"])
        #expect(uses.map(\.input) == [#"{"path":"a"}"#, #"{"path":"b"}"#])
        guard case .messageDelta("tool_use", _, _) = events[events.count - 2] else { Issue.record("tool_use expected"); return }
        #expect(translator.events.isEmpty)
    }

    @Test("a whole (non-streamed) completion: message content, calls with arguments in one piece; stop after calls is tool_use")
    func wholeCompletion() throws {
        let (events, _) = try self.run([
            #"{"id":"c","object":"chat.completion","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Sure.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"Bash","arguments":"{\"command\":\"ls\"}"}},{"id":"call_1","type":"function","function":{"name":"Bash","arguments":""}}]}}],"usage":{"prompt_tokens":10,"completion_tokens":5}}"#
        ])
        let uses = toolUses(events)
        #expect(uses.map(\.input) == [#"{"command":"ls"}"#, "{}"], "empty arguments become {}")
        #expect(uses[0].id == "call_1")
        #expect(uses[1].id != "call_1" && uses[1].id.hasPrefix("toolu_"), "a repeated id is replaced")
        guard case .messageDelta("tool_use", _, _) = events[events.count - 2] else { Issue.record("tool_use expected"); return }
    }

    @Test("arguments that are not JSON are never passed on: a failure, retryable while nothing was sent")
    func invalidArguments() throws {
        var translator = ChatCompletionsResponseTranslator(model: "m", declaredTools: ["Read"], errors: .init(provider: "openai"))
        _ = translator.consume(try ChatCompletionsChunk(json: JSONValue.parse(
            Self.delta(#"{"tool_calls":[{"index":0,"id":"c","function":{"name":"Read","arguments":"{\"path\": oops"}}]}"#, finish: "tool_calls"))))
        let failure = #expect(throws: ChatCompletionsResponseTranslator.MalformedArguments.self) { try translator.finish() }
        #expect(failure?.note.kind == .malformedCall)
        #expect(failure?.canRetry == true)
        #expect(failure?.clientError(repeated: true).message == "openai sent a call to Read whose arguments are not JSON, twice")

        var afterText = ChatCompletionsResponseTranslator(model: "m", declaredTools: ["Read"], errors: .init(provider: "openai"))
        _ = afterText.consume(try ChatCompletionsChunk(json: JSONValue.parse(Self.delta(#"{"content":"hi"}"#))))
        _ = afterText.consume(try ChatCompletionsChunk(json: JSONValue.parse(
            Self.delta(#"{"tool_calls":[{"index":0,"id":"c","function":{"name":"Read","arguments":"nope"}}]}"#, finish: "stop"))))
        do {
            _ = try afterText.finish()
            Issue.record("expected a failure")
        } catch let error as ChatCompletionsResponseTranslator.MalformedArguments {
            #expect(!error.canRetry, "text already went to the client")
        }
    }

    @Test("a call cut by the token limit is dropped and counted; the answer says max_tokens")
    func truncatedCall() throws {
        let (events, translator) = try self.run([
            Self.delta(#"{"content":"Writing"}"#),
            Self.delta(#"{"tool_calls":[{"index":0,"id":"c","function":{"name":"Read","arguments":"{\"path\":\"a"}}]}"#, finish: "length"),
        ])
        #expect(toolUses(events).isEmpty)
        guard case .messageDelta("max_tokens", _, _) = events[events.count - 2] else { Issue.record("max_tokens expected"); return }
        #expect(translator.events.map(\.kind) == [.malformedCall])
    }

    @Test("non-object arguments are wrapped, an undeclared tool is counted")
    func oddCalls() throws {
        let (events, translator) = try self.run([
            Self.delta(#"{"tool_calls":[{"index":0,"id":"c","function":{"name":"Grep","arguments":"[1,2]"}}]}"#, finish: "tool_calls")
        ])
        #expect(toolUses(events).first?.input == #"{"value":[1,2]}"#)
        #expect(Set(translator.events.map(\.kind)) == [.argumentsNotObject, .unknownTool])
    }

    @Test(
        "finish reasons map to stop reasons",
        arguments: [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "refusal"), ("tool_calls", "end_turn")]
    )
    func finishReasons(reason: String, expected: String) throws {
        let (events, _) = try self.run([Self.delta(#"{"content":"x"}"#, finish: reason)])
        guard case .messageDelta(let stop, _, _) = events[events.count - 2] else { Issue.record("no message_delta"); return }
        #expect(stop == expected)
    }

    @Test("vLLM's stop_reason names the stop sequence; DeepSeek's cache hits count as cache reads")
    func stopSequenceAndDeepSeekCache() throws {
        let (events, _) = try self.run([
            #"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop","stop_reason":"END"}],"usage":{"prompt_tokens":50,"completion_tokens":1,"prompt_cache_hit_tokens":30,"prompt_cache_miss_tokens":20}}"#
        ])
        guard case .messageDelta("stop_sequence", "END", let usage) = events[events.count - 2] else { Issue.record("stop_sequence expected"); return }
        #expect(usage.cacheReadInputTokens == 30 && usage.inputTokens == 20)
    }

    @Test("an answer without a finish reason is a truncated upstream, never a quiet end_turn")
    func noFinishReason() throws {
        #expect(throws: AnthropicError.self) { try self.run([Self.delta(#"{"content":"partial"}"#)]) }
    }
}

@Suite("Chat Completions errors → Anthropic errors")
struct ChatCompletionsErrorMapperTests {
    let mapper = ChatCompletionsErrorMapper(provider: "openai")

    func map(_ status: Int, _ body: String, headers: UpstreamHeaders = [:]) -> AnthropicError {
        self.mapper.error(status: status, body: ByteBuffer(string: body), headers: headers)
    }

    @Test("context overflow in each service's wording becomes 'prompt is too long: N tokens > M maximum'")
    func overflow() {
        let wordings = [
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130532 tokens. Please reduce the length of the messages.",
            "This model's maximum context length is 128000 tokens. However, you requested 130532 tokens (130000 in the messages, 532 in the completion).",
            "Prompt contains 130532 tokens and 0 draft tokens, too large for model with 128000 maximum context length",
        ]
        for message in wordings {
            let error = self.map(400, #"{"error":{"message":"\#(message)","type":"invalid_request_error","code":"context_length_exceeded"}}"#)
            #expect(error.statusCode == 400)
            #expect(error.message == "prompt is too long: 130532 tokens > 128000 maximum", "\(message)")
        }
    }

    @Test("statuses map to Anthropic's types; 401 says the key was rejected")
    func statuses() {
        let body = #"{"error":{"message":"nope","type":"x","param":null,"code":null}}"#
        #expect(self.map(401, body).type == "authentication_error")
        #expect(self.map(401, body).message.contains("rejected the API key"))
        #expect(self.map(403, body).type == "permission_error")
        #expect(self.map(404, body).type == "not_found_error")
        #expect(self.map(500, body).type == "api_error")
        #expect(self.map(503, body).statusCode == 529)
        #expect(self.map(502, "<html>bad gateway</html>").message.contains("bad gateway"))
    }

    @Test("429 keeps the delay: retry-after, retry-after-ms, else the later x-ratelimit-reset-*")
    func rateLimits() {
        let body = #"{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}"#
        #expect(self.map(429, body, headers: ["retry-after": "7"]).headers["retry-after"] == "7")
        #expect(self.map(429, body, headers: ["retry-after-ms": "1500"]).headers["retry-after"] == "2")
        let reset = self.map(429, body, headers: ["x-ratelimit-reset-requests": "120ms", "x-ratelimit-reset-tokens": "6m0s"])
        #expect(reset.type == "rate_limit_error")
        #expect(reset.headers["retry-after"] == "360")
        #expect(self.map(429, body).headers["retry-after"] == nil)
        #expect(ChatCompletionsErrorMapper.goDuration("1h2m3.5s") == 3723.5)
        #expect(ChatCompletionsErrorMapper.goDuration("soon") == nil)
    }

    @Test("an error inside a 200 stream keeps its status or type")
    func midStream() throws {
        #expect(self.mapper.midStream(try JSONValue.parse(#"{"message":"boom","type":"server_error","code":503}"#)).statusCode == 529)
        #expect(self.mapper.midStream(try JSONValue.parse(#"{"message":"slow","type":"rate_limit_error"}"#)).type == "rate_limit_error")
    }
}
