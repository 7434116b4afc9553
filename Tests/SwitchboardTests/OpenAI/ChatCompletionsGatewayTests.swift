import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SwitchboardTesting
import Telemetry
import Testing

@testable import Switchboard

/// Requests through the gateway's router to the strict fake Chat Completions server, streaming and not.
@Suite("OpenAI-compatible routes against the fake Chat Completions server")
struct ChatCompletionsGatewayTests {
    static let key = "sk-fake-openai"

    static func yaml(_ fake: FakeChatCompletionsServer) -> String {
        """
        model_list:
          - {model_name: gpt, litellm_params: {model: openai/gpt-4.1, api_key: \(key), api_base: "\(fake.baseURL)/v1"}}
          - {model_name: o3, litellm_params: {model: openai/o3, api_key: \(key), api_base: "\(fake.baseURL)/v1"}}
          - {model_name: reasoner, litellm_params: {model: deepseek/deepseek-reasoner, api_key: \(key), api_base: "\(fake.baseURL)/v1"}}
          - {model_name: azure, litellm_params: {model: azure/gpt-4o-prod, api_key: \(key), api_base: "\(fake.baseURL)", api_version: "2024-10-21"}}
          - {model_name: vllm, litellm_params: {model: hosted_vllm/qwen3-coder, api_key: \(key), api_base: "\(fake.baseURL)/v1", tokenize_url: "\(fake.baseURL)/tokenize"}}
          - {model_name: wrong-key, litellm_params: {model: openai/gpt-4.1, api_key: nope, api_base: "\(fake.baseURL)/v1"}}
        switchboard: {ping_interval_seconds: 0.2}
        """
    }

    static func body(_ model: String, _ text: String, stream: Bool, extra: String = "") -> String {
        #"{"model":"\#(model)","max_tokens":32000,"stream":\#(stream),"messages":[{"role":"user","content":\#(JSONText.quoted(text))}]\#(extra)}"#
    }

    static let tools = #","tools":[{"name":"Read","input_schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"file_path":{"type":"string"}}}}]"#

    static func start() async throws -> (FakeChatCompletionsServer, GatewayHarness) {
        let fake = try await FakeChatCompletionsServer.start(apiKey: Self.key)
        return (fake, try GatewayHarness(yaml: Self.yaml(fake)))
    }

    /// The content blocks of a response, streamed or not, as Anthropic's accumulator would build them.
    static func blocks(_ response: TestResponse) throws -> [[String: Any]] {
        guard response.headers[.contentType]?.hasPrefix("text/event-stream") == true else {
            return response.json["content"] as? [[String: Any]] ?? []
        }
        var blocks: [[String: Any]] = []
        for (name, data) in response.events {
            switch name {
            case "content_block_start":
                #expect(data["index"] as? Int == blocks.count, "blocks are indexed from 0, in order")
                blocks.append(data["content_block"] as! [String: Any])
            case "content_block_delta":
                let delta = data["delta"] as! [String: Any]
                let index = data["index"] as! Int
                for key in ["text", "thinking", "partial_json"] {
                    if let piece = delta[key] as? String { blocks[index][key] = (blocks[index][key] as? String ?? "") + piece }
                }
            default: break
            }
        }
        for index in blocks.indices {
            if let json = blocks[index].removeValue(forKey: "partial_json") as? String {
                blocks[index]["input"] = try JSONSerialization.jsonObject(with: Data(json.utf8))
            }
        }
        return blocks
    }

    static func stopReason(_ response: TestResponse) -> String? {
        if let reason = response.json["stop_reason"] as? String { return reason }
        return response.events.last { $0.name == "message_delta" }.flatMap { ($0.data["delta"] as? [String: Any])?["stop_reason"] as? String }
    }

    @Test("text, streaming and not: Claude Code's max_tokens within gpt-4.1's limit goes as it is, usage recorded", arguments: [false, true])
    func text(stream: Bool) async throws {
        let (fake, harness) = try await Self.start()
        let response = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("gpt", "hello openai", stream: stream))
        }
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        #expect(try Self.blocks(response).compactMap { $0["text"] as? String } == ["fake-openai heard: hello openai"])
        let request = try #require(fake.requests.last)
        #expect(request.path == "/v1/chat/completions")
        #expect(request.headers.first { $0.name.lowercased() == "authorization" }?.value == "Bearer \(Self.key)")
        let record = try #require(harness.recorder.all.first)
        #expect(record.provider == .openai)
        #expect(record.usage.inputTokens > 0 && record.usage.outputTokens > 0)
        #expect(record.translationEvents.isEmpty)
        let sent = try JSONSerialization.jsonObject(with: Data(request.body.readableBytesView)) as! [String: Any]
        #expect(sent["max_tokens"] as? Int == 32_000)
        #expect(sent["model"] as? String == "gpt-4.1")
        await fake.stop()
    }

    @Test("a DeepSeek reasoner's reasoning_content becomes a thinking block before the text", arguments: [false, true])
    func reasoning(stream: Bool) async throws {
        let (fake, harness) = try await Self.start()
        let response = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("reasoner", "fake:reasoning", stream: stream))
        }
        let blocks = try Self.blocks(response)
        #expect(blocks.compactMap { $0["type"] as? String } == ["thinking", "text"])
        #expect((blocks.first?["thinking"] as? String)?.isEmpty == false)
        await fake.stop()
    }

    @Test("a tool loop: calls split, whole and interleaved arrive as tool_use; their results go back as tool messages", arguments: [
        ("fake:call Read {\"file_path\":\"/a\"}", 1), ("fake:whole-args Read {\"file_path\":\"/a\"}", 1),
        ("fake:parallel Read", 2), ("fake:interleaved Read", 2),
    ])
    func toolLoop(prompt: String, calls: Int) async throws {
        let (fake, harness) = try await Self.start()
        for stream in [false, true] {
            let first = try await harness.test { client in
                try await client.post("/v1/messages", Self.body("gpt", prompt, stream: stream, extra: Self.tools))
            }
            let uses = try Self.blocks(first).filter { $0["type"] as? String == "tool_use" }
            #expect(uses.count == calls)
            #expect(Set(uses.compactMap { $0["id"] as? String }).count == calls)
            #expect(Self.stopReason(first) == "tool_use")
            let history = uses.map { use in
                #"{"type":"tool_use","id":"\#(use["id"]!)","name":"Read","input":\#(String(decoding: try! JSONSerialization.data(withJSONObject: use["input"]!), as: UTF8.self))}"#
            }.joined(separator: ",")
            let results = uses.map { #"{"type":"tool_result","tool_use_id":"\#($0["id"]!)","content":"body"}"# }.joined(separator: ",")
            let followUp = """
                {"model":"gpt","max_tokens":256,"stream":\(stream),"messages":[
                  {"role":"user","content":\(JSONText.quoted(prompt))},
                  {"role":"assistant","content":[\(history)]},
                  {"role":"user","content":[\(results)]}]\(Self.tools)}
                """
            let second = try await harness.test { client in try await client.post("/v1/messages", followUp) }
            #expect(second.status == .ok, "\(String(buffer: second.body))")
            #expect(try Self.blocks(second).first?["text"] as? String == "fake-openai got \(calls) tool results: " + Array(repeating: "body", count: calls).joined(separator: " "))
        }
        #expect(harness.recorder.all.allSatisfy { $0.translationEvents.filter { $0.kind != .parameterClamped }.isEmpty })
        await fake.stop()
    }

    @Test("a DeepSeek reasoner tool loop: the thinking Claude Code echoes goes back as reasoning_content, as DeepSeek requires")
    func deepSeekToolLoop() async throws {
        let (fake, harness) = try await Self.start()
        let prompt = #"fake:call Read {"file_path":"/a"}"#
        let first = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("reasoner", prompt, stream: true, extra: Self.tools))
        }
        let blocks = try Self.blocks(first)
        #expect(blocks.compactMap { $0["type"] as? String } == ["thinking", "tool_use"])
        let thinking = try #require(blocks.first)
        let use = try #require(blocks.last)
        let followUp = """
            {"model":"reasoner","max_tokens":256,"messages":[
              {"role":"user","content":\(JSONText.quoted(prompt))},
              {"role":"assistant","content":[{"type":"thinking","thinking":\(JSONText.quoted(thinking["thinking"] as! String)),"signature":"switchboard.openai.reasoning"},
                {"type":"tool_use","id":"\(use["id"]!)","name":"Read","input":{"file_path":"/a"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"\(use["id"]!)","content":"body"}]}]\(Self.tools)}
            """
        let second = try await harness.test { client in try await client.post("/v1/messages", followUp) }
        #expect(second.status == .ok, "\(String(buffer: second.body))")
        #expect(try Self.blocks(second).last?["text"] as? String == "fake-openai got 1 tool results: body")
        await fake.stop()
    }

    @Test("invalid arguments are retried once unseen, then a 502 counted as malformed_call — never a broken tool_use")
    func badArguments() async throws {
        let (fake, harness) = try await Self.start()
        let response = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("gpt", "fake:bad-args Read", stream: true, extra: Self.tools))
        }
        #expect(response.status == .badGateway)
        #expect(fake.requests.filter { $0.path == "/v1/chat/completions" }.count == 2)
        #expect(harness.metric("switchboard_tool_call_translation_errors", ["openai", "malformed_call"]) == 2)
        #expect(harness.metric("switchboard_upstream_errors", ["openai", "malformed_call"]) == 2)
        await fake.stop()
    }

    @Test("errors: 401, 429 with retry-after, context overflow, a failure mid-stream, a truncated stream")
    func errors() async throws {
        let (fake, harness) = try await Self.start()
        let wrongKey = try await harness.test { client in try await client.post("/v1/messages", Self.body("wrong-key", "hi", stream: false)) }
        #expect(wrongKey.status == .unauthorized)
        let limited = try await harness.test { client in try await client.post("/v1/messages", Self.body("gpt", "fake:error 429", stream: true)) }
        #expect(limited.status == .tooManyRequests)
        #expect(limited.headers[HTTPField.Name("retry-after")!] == "7")
        let overflow = try await harness.test { client in try await client.post("/v1/messages", Self.body("gpt", "fake:overflow", stream: false)) }
        #expect(overflow.status == .badRequest)
        #expect(((overflow.json["error"] as? [String: Any])?["message"] as? String)?.hasPrefix("prompt is too long: ") == true)
        for directive in ["fake:mid-stream-error", "fake:truncate"] {
            let broken = try await harness.test { client in try await client.post("/v1/messages", Self.body("gpt", directive, stream: true)) }
            #expect(broken.events.last?.name == "error", "\(directive)")
        }
        await fake.stop()
    }

    @Test("stream shapes: keep-alive comments, no [DONE], null choices on the usage chunk, cached tokens", arguments: [
        "fake:keepalive", "fake:no-done", "fake:null-choices", "fake:cached",
    ])
    func streamShapes(directive: String) async throws {
        let (fake, harness) = try await Self.start()
        let response = try await harness.test { client in try await client.post("/v1/messages", Self.body("gpt", directive, stream: true)) }
        #expect(response.events.last?.name == "message_stop")
        #expect(Self.stopReason(response) == "end_turn")
        let record = try #require(harness.recorder.all.first)
        #expect(record.usage.outputTokens > 0)
        if directive == "fake:cached" { #expect(record.usage.cacheReadInputTokens > 0) }
        await fake.stop()
    }

    @Test("o3: developer message, max_completion_tokens, no sampling parameters — the fake accepts it")
    func reasoningModel() async throws {
        let (fake, harness) = try await Self.start()
        let body = #"{"model":"o3","max_tokens":32000,"temperature":1,"system":"Be brief.","thinking":{"type":"enabled","budget_tokens":10000},"messages":[{"role":"user","content":"hi"}]}"#
        let response = try await harness.test { client in try await client.post("/v1/messages", body) }
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        let sent = try JSONSerialization.jsonObject(with: Data(try #require(fake.requests.last).body.readableBytesView)) as! [String: Any]
        #expect(sent["reasoning_effort"] as? String == "high")
        #expect(sent["max_completion_tokens"] as? Int == 32000)
        await fake.stop()
    }

    @Test("azure/: the deployment URL, api-version and api-key header; the deployment names the model")
    func azure() async throws {
        let (fake, harness) = try await Self.start()
        let response = try await harness.test { client in try await client.post("/v1/messages", Self.body("azure", "hello azure", stream: true)) }
        #expect(response.status == .ok)
        let request = try #require(fake.requests.last)
        #expect(request.path == "/openai/deployments/gpt-4o-prod/chat/completions")
        #expect(request.query == "api-version=2024-10-21")
        #expect(request.headers.contains { $0.name.lowercased() == "api-key" && $0.value == Self.key })
        #expect(try Self.blocks(response).first?["text"] as? String == "fake-openai heard: hello azure")
        await fake.stop()
    }

    @Test("count_tokens: an estimate, said so, without a tokenizer; vLLM's /tokenize count with one")
    func countTokens() async throws {
        let (fake, harness) = try await Self.start()
        let body = #"{"model":"MODEL","messages":[{"role":"user","content":"count these words please"}]}"#
        let estimated = try await harness.test { client in
            try await client.post("/v1/messages/count_tokens", body.replacingOccurrences(of: "MODEL", with: "gpt"))
        }
        #expect(estimated.status == .ok)
        #expect(estimated.headers[HTTPField.Name("x-switchboard-token-count")!] == "estimated")
        let counted = try await harness.test { client in
            try await client.post("/v1/messages/count_tokens", body.replacingOccurrences(of: "MODEL", with: "vllm"))
        }
        #expect(counted.status == .ok)
        #expect(counted.headers[HTTPField.Name("x-switchboard-token-count")!] == nil)
        #expect(fake.requests.last?.path == "/tokenize")
        #expect((counted.json["input_tokens"] as? Int ?? 0) > 0)
        await fake.stop()
    }
}
