import Foundation
import NIOCore
import SwitchboardTesting
import Testing
import Upstream

@Suite("The fake Chat Completions server: OpenAI's refusals, and streams shaped as OpenAI sends them")
struct FakeChatCompletionsServerTests {
    // MARK: - Refusals

    static func body(_ json: String) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    }

    static let user = #"{"role":"user","content":"hi"}"#
    static let stream = #""stream":true,"stream_options":{"include_usage":true}"#
    static let readTool =
        #"{"type":"function","function":{"name":"Read","parameters":{"type":"object","properties":{}}}}"#

    @Test(
        "the validator refuses what OpenAI refuses, with its message, param and code",
        arguments: [
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"thinking":{"type":"enabled"}}"#,
                "Unrecognized request argument supplied: thinking", nil, nil
            ),
            (#"{"messages":[\#(user)]}"#, "you must provide a model parameter", nil, nil),
            (
                #"{"model":"gpt-4o"}"#, "Missing required parameter: 'messages'.", "messages",
                "missing_required_parameter"
            ),
            (
                #"{"model":"gpt-4o","messages":[]}"#,
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                "messages", "empty_array"
            ),
            (
                #"{"model":"gpt-4o","messages":[{"role":"human","content":"hi"}]}"#,
                "Invalid value: 'human'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
                "messages[0].role", "invalid_value"
            ),
            (
                #"{"model":"gpt-4o","messages":[{"role":"user","content":""}]}"#,
                "fake-openai: Invalid 'messages[0].content': string too short. Expected a string with minimum length 1, but got an empty string instead.",
                "messages[0].content", "string_below_min_length"
            ),
            (
                #"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]}"#,
                "Unknown parameter: 'messages[0].content[0].cache_control'.", "messages[0].content[0].cache_control",
                "unknown_parameter"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user),{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"Read","arguments":{"path":"/a"}}}]},{"role":"tool","tool_call_id":"call_1","content":"x"}]}"#,
                "Invalid type for 'messages[1].tool_calls[0].function.arguments': expected a string, but got an object instead.",
                "messages[1].tool_calls[0].function.arguments", "invalid_type"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user),{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"Read","arguments":"{\"path\":"}}]},{"role":"tool","tool_call_id":"call_1","content":"x"}]}"#,
                "fake-openai: Invalid 'messages[1].tool_calls[0].function.arguments': expected a JSON object encoded as a string.",
                "messages[1].tool_calls[0].function.arguments", "invalid_value"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user),{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"Read","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","content":"x"}]}"#,
                "Unknown parameter: 'messages[1].tool_calls[0].index'.", "messages[1].tool_calls[0].index",
                "unknown_parameter"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user),{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"Read","arguments":"{}"}},{"id":"call_2","type":"function","function":{"name":"Read","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","content":"x"},\#(user)]}"#,
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_2",
                "messages.[1].role", nil
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user),{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"Read","arguments":"{}"}}]}]}"#,
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_1",
                "messages.[1].role", nil
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user),{"role":"tool","tool_call_id":"call_1","content":"x"}]}"#,
                "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                "messages.[1].role", nil
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user),{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"Read","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_9","content":"x"}]}"#,
                "Invalid parameter: 'tool_call_id' of 'call_9' not found in 'tool_calls' of previous message.",
                "messages.[2].tool_call_id", nil
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"tools":[{"type":"function","function":{"name":"mcp.read file"}}]}"#,
                "Invalid 'tools[0].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                "tools[0].function.name", "invalid_value"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"tools":[{"type":"function","function":{"name":"Read","parameters":{"type":"string"}}}]}"#,
                "Invalid schema for function 'Read': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"string\"'.",
                "tools[0].function.parameters", "invalid_function_parameters"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"tool_choice":"auto"}"#,
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                "tool_choice", nil
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"tools":[\#(readTool)],"tool_choice":{"type":"function","function":{"name":"Write"}}}"#,
                "fake-openai: 'tool_choice' names the function 'Write', which is not among the declared 'tools'.",
                "tool_choice.function.name", "invalid_value"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"tools":[\#(readTool)],"tool_choice":"any"}"#,
                "Invalid value: 'any'. Supported values are: 'none', 'auto', and 'required'.", "tool_choice",
                "invalid_value"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"stream_options":{"include_usage":true}}"#,
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", nil
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"stream":true}"#,
                "fake-openai requires 'stream_options': {'include_usage': true} on every streamed request: Switchboard promises to ask for usage.",
                "stream_options", nil
            ),
            (
                #"{"model":"o3","messages":[\#(user)],"max_tokens":100}"#,
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                "max_tokens", "unsupported_parameter"
            ),
            (
                #"{"model":"gpt-5","messages":[\#(user)],"temperature":0.5}"#,
                "Unsupported value: 'temperature' does not support 0.5 with this model. Only the default (1) value is supported.",
                "temperature", "unsupported_value"
            ),
            (
                #"{"model":"o4-mini","messages":[\#(user)],"top_p":0.9}"#,
                "Unsupported value: 'top_p' does not support 0.9 with this model. Only the default (1) value is supported.",
                "top_p", "unsupported_value"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"reasoning_effort":"low"}"#,
                "Unrecognized request argument supplied: reasoning_effort", nil, nil
            ),
            (
                #"{"model":"gpt-5","messages":[\#(user)],"reasoning_effort":"max"}"#,
                "Invalid value: 'max'. Supported values are: 'minimal', 'low', 'medium', and 'high'.",
                "reasoning_effort", "invalid_value"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"max_tokens":32000}"#,
                "max_tokens is too large: 32000. This model supports at most 16384 completion tokens, whereas you provided 32000.",
                "max_tokens", "invalid_value"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"stop":["a","b","c","d","e"]}"#,
                "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.",
                "stop", "array_above_max_length"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"temperature":"hot"}"#,
                "Invalid type for 'temperature': expected a decimal, but got a string instead.", "temperature",
                "invalid_type"
            ),
            (
                #"{"model":"gpt-4o","messages":[\#(user)],"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}}"#,
                "Missing required parameter: 'response_format.json_schema.name'.", "response_format.json_schema.name",
                "missing_required_parameter"
            ),
        ] as [(String, String, String?, String?)]
    )
    func refusals(json: String, message: String, param: String?, code: String?) {
        let refusal = ChatCompletionsRequestValidator().validate(Self.body(json))
        #expect(refusal == ChatCompletionsRequestValidator.Refusal(message, param: param, code: code))
    }

    @Test(
        "a whole Claude Code turn is accepted: system, images, parallel calls answered, reminder text, tools, streaming"
    )
    func acceptsAToolLoop() {
        let json = #"""
            {"model":"gpt-5","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":32000,
             "reasoning_effort":"medium","parallel_tool_calls":true,"tool_choice":"auto","user":"session-1",
             "tools":[\#(Self.readTool)],
             "messages":[
              {"role":"system","content":"You are Claude Code."},
              {"role":"user","content":[{"type":"text","text":"read both"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"Read","arguments":"{\"path\":\"/a\"}"}},
                {"id":"call_2","type":"function","function":{"name":"Read","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"call_2","content":"b"},
              {"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"a"}]},
              {"role":"user","content":"<system-reminder>keep going</system-reminder>"}]}
            """#
        #expect(ChatCompletionsRequestValidator().validate(Self.body(json)) == nil)
        let azure = #"{"messages":[\#(Self.user)],"max_completion_tokens":1000}"#
        #expect(
            ChatCompletionsRequestValidator(deployment: "o4-mini").validate(Self.body(azure)) == nil,
            "the deployment is the model"
        )
        #expect(ChatCompletionsRequestValidator().validate(Self.body(azure)) != nil)
    }

    // MARK: - On the wire

    struct Exchange {
        let status: Int
        let headers: UpstreamHeaders
        let text: String

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(self.text.utf8))) as? [String: Any] ?? [:]
        }

        /// The `data:` payloads of a stream, in order.
        var events: [String] {
            self.text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map {
                String($0.dropFirst("data: ".count))
            }
        }

        /// The JSON chunks of a stream, without `[DONE]`.
        var chunks: [[String: Any]] {
            self.events.filter { $0 != "[DONE]" }.compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        /// Each chunk's first delta, where it has one.
        var deltas: [[String: Any]] {
            self.chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first)?["delta"] as? [String: Any] }
        }

        /// Each chunk's tool-call fragments, in order.
        var fragments: [[String: Any]] { self.deltas.flatMap { $0["tool_calls"] as? [[String: Any]] ?? [] } }

        var finishReasons: [String] {
            self.chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first)?["finish_reason"] as? String }
        }
    }

    static let key = "sk-fake-test"

    static func withFake(_ body: (FakeChatCompletionsServer, UpstreamClient) async throws -> Void) async throws {
        let fake = try await FakeChatCompletionsServer.start(apiKey: Self.key)
        let client = UpstreamClient(configuration: .init(idleTimeout: .seconds(10), proxy: .none))
        do {
            try await body(fake, client)
        } catch {
            await client.shutdown()
            await fake.stop()
            throw error
        }
        await client.shutdown()
        await fake.stop()
    }

    static func post(
        _ client: UpstreamClient,
        _ url: String,
        _ json: String,
        headers: UpstreamHeaders = ["authorization": "Bearer \(key)"]
    ) async throws -> Exchange {
        var fields = headers
        fields.add(name: "content-type", value: "application/json")
        let response = try await client.execute(
            UpstreamRequest(method: "POST", url: url, headers: fields, body: ByteBuffer(string: json))
        )
        let body = try await response.collectBody(upTo: 1 << 20)
        return Exchange(status: response.status, headers: response.headers, text: String(buffer: body))
    }

    static func ask(
        _ client: UpstreamClient,
        _ fake: FakeChatCompletionsServer,
        _ prompt: String,
        streamed: Bool = true
    ) async throws -> Exchange {
        let stream = streamed ? "\(Self.stream)," : ""
        let json =
            #"{"model":"gpt-4o",\#(stream)"tools":[\#(readTool)],"messages":[{"role":"user","content":"\#(prompt)"}]}"#
        return try await post(client, fake.baseURL + "/v1/chat/completions", json)
    }

    @Test(
        "a text stream: role and empty content first, usage null on every chunk but the last, which has no choices, then [DONE]"
    )
    func textStream() async throws {
        try await Self.withFake { fake, client in
            let exchange = try await Self.ask(client, fake, "hello there")
            #expect(exchange.status == 200)
            #expect(exchange.headers["content-type"] == "text/event-stream; charset=utf-8")
            #expect(exchange.text.hasSuffix("data: [DONE]\n\n"))
            let chunks = exchange.chunks
            let first = try #require(exchange.deltas.first)
            #expect(first["role"] as? String == "assistant")
            #expect(first["content"] as? String == "")
            #expect(chunks.dropLast().allSatisfy { $0["usage"] is NSNull })
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1, "one id for the whole stream")
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let text = exchange.deltas.compactMap { $0["content"] as? String }.joined()
            #expect(text == "fake-openai heard: hello there")
            #expect(exchange.finishReasons == ["stop"])
            let last = try #require(chunks.last)
            #expect((last["choices"] as? [Any])?.isEmpty == true)
            let usage = try #require(last["usage"] as? [String: Any])
            let prompt = try #require(usage["prompt_tokens"] as? Int)
            let completion = try #require(usage["completion_tokens"] as? Int)
            #expect(usage["total_tokens"] as? Int == prompt + completion)
            #expect((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 0)
            #expect((usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int == 0)
        }
    }

    @Test("a call streams as OpenAI's do: id, type and name on its first fragment only, the arguments in small pieces")
    func splitArguments() async throws {
        try await Self.withFake { fake, client in
            let exchange = try await Self.ask(client, fake, #"fake:call Read {\"path\":\"/etc/hosts\",\"limit\":20}"#)
            let fragments = exchange.fragments
            #expect(fragments.count > 3)
            let headed = fragments.filter { $0["id"] != nil }
            #expect(headed.count == 1)
            let header = try #require(headed.first)
            #expect((header["id"] as? String)?.hasPrefix("call_") == true)
            #expect((header["id"] as? String)?.count == 29)
            #expect(header["type"] as? String == "function")
            #expect(
                fragments.dropFirst().allSatisfy {
                    $0["type"] == nil && ($0["function"] as? [String: Any])?["name"] == nil
                }
            )
            let first = try #require(exchange.deltas.first)
            #expect(
                first["role"] as? String == "assistant" && first["content"] is NSNull,
                "calls only: the role rides with the first call"
            )
            let arguments = fragments.compactMap { ($0["function"] as? [String: Any])?["arguments"] as? String }
                .joined()
            let parsed = try JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: Any]
            #expect(parsed?["path"] as? String == "/etc/hosts")
            #expect(parsed?["limit"] as? Int == 20)
            #expect(exchange.finishReasons == ["tool_calls"])
        }
    }

    @Test("interleaved calls alternate their fragments between index 0 and 1; whole-args sends them in one piece")
    func interleavedAndWhole() async throws {
        try await Self.withFake { fake, client in
            let interleaved = try await Self.ask(client, fake, "fake:interleaved Read")
            let bodies = interleaved.fragments.filter { $0["id"] == nil }.compactMap { $0["index"] as? Int }
            #expect(Array(bodies.prefix(6)) == [0, 1, 0, 1, 0, 1])
            #expect(interleaved.fragments.filter { $0["id"] != nil }.compactMap { $0["index"] as? Int } == [0, 1])

            let whole = try await Self.ask(client, fake, #"fake:whole-args Read {\"path\":\"/a\"}"#)
            #expect(whole.fragments.count == 1)
            #expect(
                (whole.fragments.first?["function"] as? [String: Any])?["arguments"] as? String == #"{"path":"/a"}"#
            )
        }
    }

    @Test("stream endings: truncated, without [DONE], null choices, an error event, keep-alive comments")
    func streamEndings() async throws {
        try await Self.withFake { fake, client in
            let truncated = try await Self.ask(client, fake, "fake:truncate")
            #expect(truncated.finishReasons.isEmpty)
            #expect(!truncated.text.contains("[DONE]"))
            #expect(!truncated.chunks.contains { $0["usage"] is [String: Any] })
            #expect(!truncated.deltas.compactMap { $0["content"] as? String }.joined().isEmpty)

            let noDone = try await Self.ask(client, fake, "fake:no-done")
            #expect(noDone.finishReasons == ["stop"])
            #expect(noDone.chunks.last?["usage"] is [String: Any])
            #expect(!noDone.text.contains("[DONE]"))

            let nullChoices = try await Self.ask(client, fake, "fake:null-choices")
            #expect(nullChoices.chunks.last?["choices"] is NSNull)

            let broken = try await Self.ask(client, fake, "fake:mid-stream-error")
            #expect(broken.status == 200)
            #expect((broken.chunks.last?["error"] as? [String: Any])?["type"] as? String == "server_error")
            #expect(!broken.text.contains("[DONE]"))

            let kept = try await Self.ask(client, fake, "fake:keepalive")
            #expect(kept.text.contains("\n: keep-alive\n\n\ndata: "))
            #expect(kept.text.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test(
        "reasoning: DeepSeek's reasoning_content, or the reasoning field, before the text; counted as reasoning tokens"
    )
    func reasoning() async throws {
        try await Self.withFake { fake, client in
            let deepSeek = try await Self.ask(client, fake, "fake:reasoning")
            let thought = deepSeek.deltas.compactMap { $0["reasoning_content"] as? String }.joined()
            #expect(thought == "Let me think about that for a moment.")
            let usage = deepSeek.chunks.last?["usage"] as? [String: Any]
            #expect((usage?["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int == 10)
            let field = try await Self.ask(client, fake, "fake:reasoning-field", streamed: false)
            let message = ((field.json["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any]
            #expect(message?["reasoning"] as? String == "Let me think about that for a moment.")
            #expect(message?["content"] as? String == "fake-openai heard: fake:reasoning-field")
        }
    }

    @Test("a request ending in tool results gets them summarized; a chain makes its second call first")
    func toolResults() async throws {
        try await Self.withFake { fake, client in
            func turn(_ prompt: String, calls: Int) -> String {
                let made = (1...calls).map {
                    #"{"id":"call_\#($0)","type":"function","function":{"name":"Read","arguments":"{}"}}"#
                }
                let answered = (1...calls).map {
                    #"{"role":"tool","tool_call_id":"call_\#($0)","content":"result \#($0)"}"#
                }
                return
                    #"{"model":"gpt-4o","tools":[\#(Self.readTool)],"messages":[{"role":"user","content":"\#(prompt)"},"#
                    + #"{"role":"assistant","content":null,"tool_calls":[\#(made.joined(separator: ","))]},\#(answered.joined(separator: ","))]}"#
            }
            let url = fake.baseURL + "/v1/chat/completions"
            let summary = try await Self.post(client, url, turn("fake:parallel Read", calls: 2))
            let message = ((summary.json["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any]
            #expect(message?["content"] as? String == "fake-openai got 2 tool results: result 1 result 2")
            #expect(message?["tool_calls"] == nil)

            let chained = try await Self.post(client, url, turn("fake:chain Read", calls: 1))
            let choice = (chained.json["choices"] as? [[String: Any]])?.first
            #expect(choice?["finish_reason"] as? String == "tool_calls")
            let calls = (choice?["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]]
            #expect((calls?.first?["function"] as? [String: Any])?["arguments"] as? String == #"{"step":2}"#)
        }
    }

    @Test("keys: a missing bearer, a wrong one; errors in OpenAI's shape; 429 with retry-after; unknown paths 404")
    func keysAndErrors() async throws {
        try await Self.withFake { fake, client in
            let url = fake.baseURL + "/v1/chat/completions"
            let json = #"{"model":"gpt-4o","messages":[\#(Self.user)]}"#
            let missing = try await Self.post(client, url, json, headers: [:])
            #expect(missing.status == 401)
            let wrong = try await Self.post(client, url, json, headers: ["authorization": "Bearer sk-wrong-key-123"])
            #expect(wrong.status == 401)
            let error = try #require(wrong.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "invalid_api_key")
            #expect(error["type"] as? String == "invalid_request_error")
            #expect(error["param"] is NSNull)

            let limited = try await Self.ask(client, fake, "fake:error 429")
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"] == "7")
            #expect(limited.headers["x-ratelimit-reset-requests"] == "6m0s")
            #expect((limited.json["error"] as? [String: Any])?["code"] as? String == "rate_limit_exceeded")

            let overflow = try await Self.ask(client, fake, "fake:overflow")
            #expect(overflow.status == 400)
            #expect((overflow.json["error"] as? [String: Any])?["code"] as? String == "context_length_exceeded")

            let refused = try await Self.post(client, url, #"{"model":"o3","max_tokens":5,"messages":[\#(Self.user)]}"#)
            #expect(refused.status == 400)
            #expect((refused.json["error"] as? [String: Any])?["param"] as? String == "max_tokens")

            let lost = try await Self.post(client, fake.baseURL + "/v1/completions", json)
            #expect(lost.status == 404)
            #expect(
                (lost.json["error"] as? [String: Any])?["message"] as? String == "Invalid URL (POST /v1/completions)"
            )
            #expect(fake.requests.count == 6)
        }
    }

    @Test(
        "Azure: api-version required (404) and well formed (400), api-key checked, the deployment answers as the model"
    )
    func azure() async throws {
        try await Self.withFake { fake, client in
            let path = fake.baseURL + "/openai/deployments/my-gpt-4o/chat/completions"
            let json = #"{"messages":[\#(Self.user)],\#(Self.stream)}"#
            let key: UpstreamHeaders = ["api-key": Self.key]
            #expect(try await Self.post(client, path, json, headers: key).status == 404)
            let badVersion = try await Self.post(client, path + "?api-version=latest", json, headers: key)
            #expect(badVersion.status == 400)
            #expect((badVersion.json["error"] as? [String: Any])?["message"] as? String == "API version not supported")
            #expect(
                try await Self.post(client, path + "?api-version=2024-10-21", json).status == 401,
                "a bearer is not Azure's key"
            )

            let answer = try await Self.post(client, path + "?api-version=2024-10-21", json, headers: key)
            #expect(answer.status == 200)
            let filter = try #require(answer.chunks.first)
            #expect((filter["choices"] as? [Any])?.isEmpty == true)
            #expect(filter["prompt_filter_results"] != nil)
            #expect(answer.chunks.dropFirst().allSatisfy { $0["model"] as? String == "my-gpt-4o" })
            #expect(answer.deltas.compactMap { $0["content"] as? String }.joined() == "fake-openai heard: hi")

            let reasoning = fake.baseURL + "/openai/deployments/o4-mini/chat/completions?api-version=2024-10-21"
            #expect(
                try await Self.post(client, reasoning, json, headers: key).status == 400,
                "o-series need 2024-12-01-preview"
            )
        }
    }

    @Test("vLLM's /tokenize counts a quarter of the text's bytes, rounded up")
    func tokenize() async throws {
        try await Self.withFake { fake, client in
            let messages = try await Self.post(
                client,
                fake.baseURL + "/tokenize",
                #"{"model":"m","messages":[{"role":"system","content":"12345"},{"role":"user","content":[{"type":"text","text":"6789"}]}]}"#,
                headers: [:]
            )
            #expect(messages.json["count"] as? Int == 3)
            #expect((messages.json["tokens"] as? [Int])?.count == 3)
            #expect(messages.json["max_model_len"] as? Int == 128_000)
            let prompt = try await Self.post(
                client,
                fake.baseURL + "/tokenize",
                #"{"model":"m","prompt":"12345678"}"#,
                headers: [:]
            )
            #expect(prompt.json["count"] as? Int == 2)
            #expect(
                try await Self.post(client, fake.baseURL + "/tokenize", #"{"model":"m"}"#, headers: [:]).status == 400
            )
        }
    }
}
