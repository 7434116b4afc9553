import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import Switchboard
import SwitchboardTesting
import Testing

@Suite("anthropic/ passthrough against the fake Anthropic upstream")
struct AnthropicPassthroughTests {
    static func yaml(_ base: String) -> String {
        """
        model_list:
          - model_name: claude-sonnet-4-5
            litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_key: sk-upstream, api_base: "\(base)"}
          - model_name: "fake-*"
            litellm_params: {model: "anthropic/fake-*", api_key: sk-upstream, api_base: "\(base)/v1"}
          - model_name: wrong-key
            litellm_params: {model: anthropic/claude, api_key: sk-not-it, api_base: "\(base)"}
        """
    }

    static let streamingBody = """
        {"model" : "claude-sonnet-4-5", "max_tokens":64,"stream":true,
         "metadata":{"user_id":"{\\"model\\":\\"not this one\\"}"},
         "messages":[{"role":"user","content":"pass me through"}]}
        """

    @Test("the request goes upstream byte for byte but the model; the stream comes back byte for byte")
    func streamingPassthrough() async throws {
        let fake = try await FakeAnthropicServer.start(apiKey: "sk-upstream")
        let harness = try GatewayHarness(yaml: Self.yaml(fake.baseURL))
        let response = try await harness.test { client in
            try await client.post(
                "/v1/messages?beta=true",
                Self.streamingBody,
                headers: [HTTPField.Name("anthropic-version")!: "2023-06-01", HTTPField.Name("anthropic-beta")!: "claude-code-20250219"]
            )
        }
        let recorded = try #require(fake.exchanges.last)
        let expectedRequest = Self.streamingBody.replacingOccurrences(
            of: #""model" : "claude-sonnet-4-5""#,
            with: #""model" : "claude-sonnet-4-5-20250929""#
        )
        #expect(String(buffer: recorded.requestBody) == expectedRequest)
        #expect(response.body == recorded.responseBody)
        #expect(response.headers[.contentType] == "text/event-stream; charset=utf-8")
        let headers = Dictionary(recorded.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        #expect(headers["x-api-key"] == "sk-upstream")
        #expect(headers["anthropic-version"] == "2023-06-01")
        #expect(headers["anthropic-beta"] == "claude-code-20250219")
        #expect(recorded.path == "/v1/messages")
        // Read off the bytes on the way, without changing them: usage, stop reason, first token.
        let record = try #require(harness.recorder.all.first)
        #expect(record.usage.inputTokens == 12, "from message_start; message_delta carries only the output count")
        #expect(record.usage.cacheReadInputTokens == 5)
        #expect(record.usage.outputTokens == 9)
        #expect(record.stopReason == "end_turn")
        #expect(record.timings[.firstToken] != nil)
        await fake.stop()
    }

    @Test("non-streaming JSON and upstream errors are forwarded with their status and body")
    func errorsPassThrough() async throws {
        let fake = try await FakeAnthropicServer.start(apiKey: "sk-upstream")
        let harness = try GatewayHarness(yaml: Self.yaml(fake.baseURL))
        let (ok, overloaded, limited, unauthorized) = try await harness.test { client in
            let body = { (model: String) in #"{"model":"\#(model)","max_tokens":8,"messages":[{"role":"user","content":"x"}]}"# }
            return (
                try await client.post("/v1/messages", body("claude-sonnet-4-5")),
                try await client.post("/v1/messages", body("fake-overloaded")),
                try await client.post("/v1/messages", body("fake-rate-limited")),
                try await client.post("/v1/messages", body("wrong-key"))
            )
        }
        #expect(ok.status == .ok)
        #expect((ok.json["content"] as? [[String: Any]])?.first?["text"] as? String == "fake-anthropic heard: x")
        #expect(ok.json["model"] as? String == "claude-sonnet-4-5-20250929")
        let okRecord = try #require(harness.recorder.all.first)
        #expect(okRecord.usage.inputTokens == 12 && okRecord.usage.outputTokens == 9, "usage read from the JSON body too")
        #expect(okRecord.stopReason == "end_turn")
        #expect(overloaded.status.code == 529)
        #expect(overloaded.errorType == "overloaded_error")
        #expect(limited.status == .tooManyRequests)
        #expect(limited.headers[HTTPField.Name("retry-after")!] == "7")
        #expect(unauthorized.status == .unauthorized)
        #expect(harness.recorder.all.map(\.errorType) == [nil, "overloaded_error", "rate_limit_error", "authentication_error"])
        await fake.stop()
    }

    @Test("count_tokens is forwarded upstream")
    func countTokens() async throws {
        let fake = try await FakeAnthropicServer.start(apiKey: "sk-upstream")
        let harness = try GatewayHarness(yaml: Self.yaml(fake.baseURL))
        let body = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"count me"}]}"#
        let response = try await harness.test { client in try await client.post("/v1/messages/count_tokens", body) }
        #expect(response.status == .ok)
        let forwarded = try #require(fake.exchanges.last)
        #expect(forwarded.path == "/v1/messages/count_tokens")
        #expect(response.json["input_tokens"] as? Int == forwarded.requestBody.readableBytes / 4)
        await fake.stop()
    }

    @Test("an unreachable upstream is a 502 api_error naming the provider, not a hang or a 500")
    func unreachable() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml("http://127.0.0.1:9"))
        let response = try await harness.test { client in
            try await client.post("/v1/messages", #"{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"x"}]}"#)
        }
        #expect(response.status == .badGateway)
        #expect(response.errorType == "api_error")
        #expect(response.errorMessage?.contains("anthropic upstream unreachable (connection_refused)") == true)
    }

    @Test("events without an `event:` line are read by their JSON type")
    func namelessEvents() {
        let exchange = Exchange(record: ExchangeRecord(requestID: "r", method: "POST", route: "/v1/messages"))
        for data in [
            #"{"type":"message_start","message":{"usage":{"input_tokens":7,"output_tokens":1}}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":3}}"#,
        ] {
            AnthropicUsageReader.read(ServerSentEvent(name: nil, data: data), into: ExchangeAccounting(exchange: exchange, provider: "anthropic"))
        }
        let record = exchange.update { $0 }
        #expect(record.usage.inputTokens == 7)
        #expect(record.usage.outputTokens == 3)
        #expect(record.stopReason == "max_tokens")
        #expect(record.timings[.firstToken] != nil)
    }
}
