import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SwitchboardTesting
import Telemetry
import Testing

@testable import Switchboard

/// Requests through the gateway's router to the strict fake Gemini, streaming and not.
@Suite("gemini/ against the fake Gemini")
struct GeminiProviderTests {
    static let key = "fake-gemini-key"

    static func yaml(_ fake: FakeGeminiServer, extra: String = "", pingInterval: Double = 0.2) -> String {
        """
        model_list:
          - {model_name: flash, litellm_params: {model: gemini/gemini-2.5-flash, api_key: \(key), api_base: "\(fake.baseURL)/v1beta"}}
          - {model_name: three, litellm_params: {model: gemini/gemini-3-flash-preview, api_key: \(key), api_base: "\(fake.baseURL)/v1beta"}}
          - {model_name: wrong-key, litellm_params: {model: gemini/gemini-2.5-flash, api_key: nope, api_base: "\(fake.baseURL)/v1beta"}}
        switchboard: {ping_interval_seconds: \(pingInterval)}
        \(extra)
        """
    }

    static func body(_ model: String, _ text: String, stream: Bool, extra: String = "") -> String {
        #"{"model":"\#(model)","max_tokens":256,"stream":\#(stream),"messages":[{"role":"user","content":\#(JSONText.quoted(text))}]\#(extra)}"#
    }

    static let tools = #","tools":[{"name":"Read","input_schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"file_path":{"type":"string"}},"required":["file_path"],"additionalProperties":false}}]"#

    /// The text of a response, streamed or not.
    static func text(_ response: TestResponse) -> String {
        if response.headers[.contentType]?.hasPrefix("text/event-stream") == true {
            return response.events.compactMap { ($0.data["delta"] as? [String: Any])?["text"] as? String }.joined()
        }
        return (response.json["content"] as? [[String: Any]])?.compactMap { $0["text"] as? String }.joined() ?? ""
    }

    @Test("text answers, streaming and not, with usage", arguments: [false, true])
    func text(stream: Bool) async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let response = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("flash", "hello gemini", stream: stream))
        }
        #expect(response.status == .ok)
        #expect(Self.text(response) == "fake-gemini heard: hello gemini")
        let request = try #require(fake.requests.last)
        #expect(request.path == "/v1beta/models/gemini-2.5-flash:" + (stream ? "streamGenerateContent" : "generateContent"))
        let record = try #require(harness.recorder.all.first)
        #expect(record.provider == .gemini)
        #expect(record.usage.inputTokens > 0)
        #expect(record.usage.outputTokens > 0)
        #expect(record.stopReason == "end_turn")
        await fake.stop()
    }

    @Test("a Gemini 3 tool loop: the call's signature rides in the tool id and the fake accepts it back", arguments: [false, true])
    func toolLoopWithSignature(stream: Bool) async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let prompt = #"fake:call Read {"file_path":"/tmp/x"}"#
        let first = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("three", prompt, stream: stream, extra: Self.tools))
        }
        #expect(first.status == .ok)
        let (id, input): (String, [String: Any]) = try {
            if stream {
                let start = try #require(first.events.first { ($0.data["content_block"] as? [String: Any])?["type"] as? String == "tool_use" })
                let json = first.events.compactMap { ($0.data["delta"] as? [String: Any])?["partial_json"] as? String }.joined()
                let input = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
                return ((start.data["content_block"] as! [String: Any])["id"] as! String, input)
            }
            let block = try #require((first.json["content"] as? [[String: Any]])?.first { $0["type"] as? String == "tool_use" })
            #expect(first.json["stop_reason"] as? String == "tool_use")
            return (block["id"] as! String, block["input"] as! [String: Any])
        }()
        #expect(input["file_path"] as? String == "/tmp/x")
        #expect(id.contains("__sig_"))

        let followUp = """
            {"model":"three","max_tokens":256,"stream":\(stream),"messages":[
              {"role":"user","content":\(JSONText.quoted(prompt))},
              {"role":"assistant","content":[{"type":"tool_use","id":"\(id)","name":"Read","input":{"file_path":"/tmp/x"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"\(id)","content":"file body"}]}]\(Self.tools)}
            """
        let second = try await harness.test { client in try await client.post("/v1/messages", followUp) }
        #expect(second.status == .ok, "\(String(buffer: second.body))")
        #expect(Self.text(second).hasPrefix("fake-gemini got 1 tool results"))
        #expect(harness.recorder.all.allSatisfy { !$0.translationEvents.contains { $0.kind == .signatureFallback } })
        await fake.stop()
    }

    @Test("parallel calls to one tool get distinct ids, and their results go back grouped")
    func parallelCalls() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let first = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("three", "fake:parallel Read", stream: false, extra: Self.tools))
        }
        let calls = (first.json["content"] as? [[String: Any]])?.filter { $0["type"] as? String == "tool_use" } ?? []
        #expect(calls.count == 2)
        let ids = calls.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == 2)
        let followUp = """
            {"model":"three","max_tokens":256,"messages":[
              {"role":"user","content":"fake:parallel Read"},
              {"role":"assistant","content":[\(calls.map { String(data: try! JSONSerialization.data(withJSONObject: $0), encoding: .utf8)! }.joined(separator: ","))]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"\(ids[0])","content":"one"},
                {"type":"tool_result","tool_use_id":"\(ids[1])","content":"two"}]}]\(Self.tools)}
            """
        let second = try await harness.test { client in try await client.post("/v1/messages", followUp) }
        #expect(second.status == .ok, "\(String(buffer: second.body))")
        #expect(Self.text(second).hasPrefix("fake-gemini got 2 tool results"))
        await fake.stop()
    }

    @Test("history from elsewhere gets the dummy signature, counted, and Gemini 3 accepts it")
    func unknownSignatureFallsBack() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let body = """
            {"model":"three","max_tokens":64,"messages":[
              {"role":"user","content":"read it"},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_from_claude","name":"Read","input":{"file_path":"a"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_from_claude","content":"x"}]}]\(Self.tools)}
            """
        let response = try await harness.test { client in try await client.post("/v1/messages", body) }
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        #expect(harness.recorder.all.first?.translationEvents.map(\.kind).contains(.signatureFallback) == true)
        await fake.stop()
    }

    @Test("Claude Code's real request (tools with $schema, system turn, adaptive thinking) is accepted by the strict fake")
    func claudeCodeRequest() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let url = try #require(Bundle.module.url(forResource: "claude-code-request", withExtension: "json", subdirectory: "Fixtures"))
        let original = try String(contentsOf: url, encoding: .utf8)
        for model in ["flash", "three"] {
            let body = original.replacingOccurrences(of: #""model": "gemini-2.5-flash""#, with: #""model": "\#(model)""#)
            let response = try await harness.test { client in try await client.post("/v1/messages?beta=true", body) }
            #expect(response.status == .ok, "\(model): \(String(buffer: response.body))")
            let text = Self.text(response)
            #expect(text.hasPrefix("fake-gemini heard:") && text.contains("say hello"), "\(model): \(text)")
        }
        await fake.stop()
    }

    @Test(
        "a malformed call is retried once transparently; twice is an error the client sees, before any byte of an answer",
        arguments: [false, true]
    )
    func malformedCalls(stream: Bool) async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        // No heartbeat while the answer is held: a ping would commit the stream before the failure.
        let harness = try GatewayHarness(yaml: Self.yaml(fake, pingInterval: 60))
        let (once, always) = try await harness.test { client in
            (
                try await client.post("/v1/messages", Self.body("flash", "fake:malformed-once \(stream)", stream: stream)),
                try await client.post("/v1/messages", Self.body("flash", "fake:malformed", stream: stream))
            )
        }
        #expect(once.status == .ok)
        #expect(Self.text(once).hasPrefix("fake-gemini heard"))
        // The stream is held until its first content, and a malformed call has none: so streaming or not,
        // the client gets a status it can act on rather than a 200 that ends in an error event.
        #expect(always.status == .badGateway)
        #expect(always.errorMessage?.contains("MALFORMED_FUNCTION_CALL twice") == true)
        let kinds = harness.recorder.all.map { $0.translationEvents.filter { $0.kind == .malformedCall }.count }
        #expect(kinds == [1, 2])
        await fake.stop()
    }

    @Test(
        "Gemini errors reach the client as Anthropic errors",
        arguments: [
            ("fake:error 429", 429, "rate_limit_error"), ("fake:error 503", 529, "overloaded_error"),
            ("fake:error 404", 404, "not_found_error"), ("fake:overflow", 400, "invalid_request_error"),
        ]
    )
    func errors(prompt: String, status: Int, type: String) async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let response = try await harness.test { client in try await client.post("/v1/messages", Self.body("flash", prompt, stream: true)) }
        #expect(Int(response.status.code) == status)
        #expect(response.errorType == type)
        if status == 429 { #expect(response.headers[HTTPField.Name("retry-after")!] == "7") }
        if prompt == "fake:overflow" { #expect(response.errorMessage == "prompt is too long: 1300000 tokens > 1048575 maximum") }
        await fake.stop()
    }

    @Test("a bad key is an authentication_error")
    func badKey() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let response = try await harness.test { client in try await client.post("/v1/messages", Self.body("wrong-key", "x", stream: false)) }
        #expect(response.status == .unauthorized)
        #expect(response.errorType == "authentication_error")
        await fake.stop()
    }

    @Test("stop reasons: max_tokens, refusal for safety and blocked prompts")
    func stopReasons() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let responses = try await harness.test { client in
            [
                try await client.post("/v1/messages", Self.body("flash", "fake:max-tokens", stream: false)),
                try await client.post("/v1/messages", Self.body("flash", "fake:safety", stream: false)),
                try await client.post("/v1/messages", Self.body("flash", "fake:blocked", stream: true)),
            ]
        }
        #expect(responses[0].json["stop_reason"] as? String == "max_tokens")
        #expect(responses[1].json["stop_reason"] as? String == "refusal")
        let delta = responses[2].events.first { $0.name == "message_delta" }?.data["delta"] as? [String: Any]
        #expect(delta?["stop_reason"] as? String == "refusal")
        await fake.stop()
    }

    @Test("while Gemini is silent the stream gets pings, then the answer")
    func pingsDuringSilence() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let response = try await harness.test { client in try await client.post("/v1/messages", Self.body("flash", "fake:silence 1", stream: true)) }
        let names = response.events.map(\.name)
        #expect(names.filter { $0 == "ping" }.count >= 3)
        #expect(names.first == "ping", "pings flow before the first content")
        #expect(Self.text(response).hasPrefix("fake-gemini heard"))
        await fake.stop()
    }

    @Test("count_tokens asks Gemini with the generateContentRequest wrapper; an estimate only when it cannot answer")
    func countTokens() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let body = #"{"model":"flash","system":"Be brief.","messages":[{"role":"user","content":"count me"}]\#(Self.tools)}"#
        let (counted, estimated) = try await harness.test { client in
            (
                try await client.post("/v1/messages/count_tokens", body),
                try await client.post("/v1/messages/count_tokens", body.replacingOccurrences(of: #""flash""#, with: #""wrong-key""#))
            )
        }
        #expect(counted.status == .ok)
        #expect(counted.headers[HTTPField.Name("x-switchboard-token-count")!] == nil)
        let request = try #require(fake.requests.first { $0.path.hasSuffix(":countTokens") })
        let wrapper = try JSONSerialization.jsonObject(with: Data(request.body.readableBytesView)) as? [String: Any]
        let inner = wrapper?["generateContentRequest"] as? [String: Any]
        #expect(inner?["model"] as? String == "models/gemini-2.5-flash")
        #expect(inner?["systemInstruction"] != nil)
        #expect(inner?["tools"] != nil)
        #expect((counted.json["input_tokens"] as? Int ?? 0) > 0)
        #expect(estimated.headers[HTTPField.Name("x-switchboard-token-count")!] == "estimated")
        await fake.stop()
    }
}
