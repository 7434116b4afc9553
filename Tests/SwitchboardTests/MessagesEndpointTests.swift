import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Switchboard
import Testing

@Suite("POST /v1/messages on the mock provider, and what clients get wrong")
struct MessagesEndpointTests {
    static let yaml = """
        model_list:
          - {model_name: claude-sonnet-4-5, litellm_params: {model: mock/echo, mock_chunk_chars: 4}}
          - model_name: tool-caller
            litellm_params:
              model: mock/tools
              mock_tool_call: {name: Bash, input: {command: "ls -la"}}
        switchboard: {max_request_body_mb: 0.01}
        """

    @Test("non-streaming: one message echoing the last user text, with usage")
    func nonStreaming() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let response = try await harness.test { client in
            try await client.post(
                "/v1/messages",
                #"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":[{"type":"text","text":"ignored"},{"type":"text","text":"echo me"}]}]}"#
            )
        }
        #expect(response.status == .ok)
        let json = response.json
        #expect(json["type"] as? String == "message")
        #expect(json["model"] as? String == "echo")
        #expect(json["stop_reason"] as? String == "end_turn")
        let content = json["content"] as? [[String: Any]]
        #expect(content?.first?["text"] as? String == "echo me")
        #expect((json["usage"] as? [String: Any])?["output_tokens"] as? Int == 2)
        #expect((json["id"] as? String)?.hasPrefix("msg_") == true)

        let record = try #require(harness.recorder.all.first)
        #expect(record.status == 200)
        #expect(record.route == "/v1/messages")
        #expect(record.provider == .mock)
        #expect(record.usage.outputTokens == 2)
        #expect(record.stopReason == "end_turn")
        #expect(!record.isStreaming)
    }

    @Test("streaming: the events in order, each `event:` name equal to data.type, deltas chunked")
    func streaming() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let response = try await harness.test { client in
            try await client.post(
                "/v1/messages?beta=true",
                #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hello world"}]}"#
            )
        }
        #expect(response.headers[.contentType]?.hasPrefix("text/event-stream") == true)
        let events = response.events
        #expect(events.map(\.name) == [
            "message_start", "content_block_start", "content_block_delta", "content_block_delta",
            "content_block_delta", "content_block_stop", "message_delta", "message_stop",
        ])
        for event in events { #expect(event.data["type"] as? String == event.name) }
        let text = events.compactMap { ($0.data["delta"] as? [String: Any])?["text"] as? String }.joined()
        #expect(text == "hello world")
        #expect(harness.recorder.all.first?.isStreaming == true)
        #expect(harness.recorder.all.first?.timings[.firstToken] != nil)
    }

    @Test("a configured tool call: text, then a tool_use block whose input arrives as input_json_delta")
    func toolCall() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let response = try await harness.test { client in
            try await client.post(
                "/v1/messages",
                #"{"model":"tool-caller","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"list files"}]}"#
            )
        }
        let events = response.events
        let start = try #require(events.first { ($0.data["content_block"] as? [String: Any])?["type"] as? String == "tool_use" })
        let block = start.data["content_block"] as! [String: Any]
        #expect(block["name"] as? String == "Bash")
        #expect((block["id"] as? String)?.hasPrefix("toolu_") == true)
        #expect((block["input"] as? [String: Any])?.isEmpty == true)
        let arguments = events.compactMap { ($0.data["delta"] as? [String: Any])?["partial_json"] as? String }.joined()
        #expect(arguments == #"{"command":"ls -la"}"#)
        let delta = events.first { $0.name == "message_delta" }?.data["delta"] as? [String: Any]
        #expect(delta?["stop_reason"] as? String == "tool_use")
    }

    @Test("after the tool ran, the mock answers the tool result with text")
    func toolResultAnswered() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let response = try await harness.test { client in
            try await client.post("/v1/messages", """
                {"model":"tool-caller","max_tokens":64,"messages":[
                  {"role":"user","content":"list files"},
                  {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
                  {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"a.txt b.txt"}]}]}
                """)
        }
        #expect(response.json["stop_reason"] as? String == "end_turn")
        let content = response.json["content"] as? [[String: Any]]
        #expect(content?.first?["text"] as? String == "Tool result: a.txt b.txt")
    }

    @Test("the /anthropic prefix serves the same routes")
    func anthropicPrefix() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let response = try await harness.test { client in
            try await client.post("/anthropic/v1/messages", #"{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"#)
        }
        #expect(response.status == .ok)
        #expect((response.json["content"] as? [[String: Any]])?.first?["text"] as? String == "hi")
    }

    @Test(
        "client mistakes get an Anthropic error body with the right status, never a 500",
        arguments: [
            (#"{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}"#, 400, "invalid_request_error", "not valid JSON"),
            (#"[1,2]"#, 400, "invalid_request_error", "body: Input should be a valid object"),
            (#"{"max_tokens":8,"messages":[]}"#, 400, "invalid_request_error", "model: Field required"),
            (#"{"model":"claude-sonnet-4-5","messages":[]}"#, 400, "invalid_request_error", "max_tokens: Field required"),
            (#"{"model":"claude-sonnet-4-5","max_tokens":"8","messages":[]}"#, 400, "invalid_request_error", "max_tokens: Input should be a valid integer"),
            (#"{"model":"claude-sonnet-4-5","max_tokens":8,"messages":{}}"#, 400, "invalid_request_error", "messages: Input should be a valid list"),
            (#"{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"robot","content":"x"}]}"#, 400, "invalid_request_error", "messages.0.role"),
            (#"{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":[{"type":"text"}]}]}"#, 400, "invalid_request_error", "messages.0.content.0.text: Field required"),
            (#"{"model":"gpt-nothing","max_tokens":8,"messages":[{"role":"user","content":"x"}]}"#, 404, "not_found_error", "model: gpt-nothing is not configured"),
        ]
    )
    func clientMistakes(body: String, status: Int, type: String, message: String) async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let response = try await harness.test { client in try await client.post("/v1/messages", body) }
        #expect(Int(response.status.code) == status)
        #expect(response.json["type"] as? String == "error")
        #expect(response.errorType == type)
        #expect(response.errorMessage?.contains(message) == true, "\(response.errorMessage ?? "")")
        #expect(harness.recorder.all.first?.errorType == type)
    }

    @Test("a body over the size limit gets 413 request_too_large")
    func bodyTooLarge() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let text = String(repeating: "x", count: 20_000)
        let response = try await harness.test { client in
            try await client.post("/v1/messages", #"{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"\#(text)"}]}"#)
        }
        #expect(response.status == .contentTooLarge)
        #expect(response.errorType == "request_too_large")
    }

    @Test("an unknown route is a 404 not_found_error in Anthropic's shape")
    func unknownRoute() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let response = try await harness.test { client in try await client.execute(uri: "/v2/nothing", method: .get) }
        #expect(response.status == .notFound)
        #expect(response.errorType == "not_found_error")
    }

    @Test("count_tokens on the mock gives an estimate and says so")
    func countTokens() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let response = try await harness.test { client in
            try await client.post(
                "/v1/messages/count_tokens?beta=true",
                #"{"model":"claude-sonnet-4-5","system":"You are terse.","messages":[{"role":"user","content":"How many tokens is this?"}]}"#
            )
        }
        #expect(response.status == .ok)
        #expect(response.json["input_tokens"] as? Int == (14 + 24 + 16 + 3) / 4)
        #expect(response.headers[HTTPField.Name("x-switchboard-token-count")!] == "estimated")
    }

    @Test("GET /v1/models lists configured names in Anthropic's list format, with paging")
    func models() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let (all, page) = try await harness.test { client in
            (try await client.execute(uri: "/v1/models", method: .get), try await client.execute(uri: "/v1/models?limit=1", method: .get))
        }
        let ids = (all.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids == ["claude-sonnet-4-5", "tool-caller"])
        #expect((all.json["data"] as? [[String: Any]])?.first?["type"] as? String == "model")
        #expect(all.json["has_more"] as? Bool == false)
        #expect(page.json["has_more"] as? Bool == true)
        #expect(page.json["last_id"] as? String == "claude-sonnet-4-5")
    }

    @Test("health checks answer")
    func health() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let (live, ready) = try await harness.test { client in
            (try await client.execute(uri: "/health", method: .get), try await client.execute(uri: "/health/ready", method: .get))
        }
        #expect(live.json["status"] as? String == "ok")
        #expect(ready.json["status"] as? String == "ready")
    }
}
