import Foundation
import NIOCore
import SwitchboardTesting
import Testing

@testable import Switchboard

/// What reaches an upstream, and how its failures are seen and counted, whatever the provider.
@Suite("upstream calls: model ids, failures after the head")
struct UpstreamFailureTests {
    static func yaml(_ baseURL: String) -> String {
        """
        model_list:
          - model_name: "gemini-*"
            litellm_params: {model: "gemini/gemini-*", api_key: k, api_base: "\(baseURL)/v1beta"}
        """
    }

    @Test(
        "a model name that would change the upstream URL is a 400 naming it, and nothing is sent",
        arguments: ["gemini-2.5-flash/../../../files?x=", "gemini-x:countTokens", "gemini-a b", "gemini-%2e%2e", "gemini-ü"]
    )
    func pathInjection(model: String) async throws {
        let fake = try await FakeGeminiServer.start(apiKey: "k")
        let harness = try GatewayHarness(yaml: Self.yaml(fake.baseURL))
        let escaped = model.replacingOccurrences(of: "\"", with: "\\\"")
        let response = try await harness.test { client in
            try await client.post("/v1/messages", #"{"model":"\#(escaped)","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#)
        }
        #expect(response.status.code == 400)
        #expect(response.errorType == "invalid_request_error")
        #expect(response.errorMessage?.contains(model) == true, "\(response.errorMessage ?? "")")
        #expect(fake.requests.isEmpty, "the upstream was called: \(fake.requests.map(\.path))")
        await fake.stop()
    }

    @Test("model ids: what each provider's ids may hold")
    func modelIDs() {
        #expect(UpstreamModelID.problem(with: "gemini-2.5-flash", for: .gemini) == nil)
        #expect(UpstreamModelID.problem(with: "models/gemini-2.5-pro", for: .gemini) == nil)
        #expect(UpstreamModelID.problem(with: "tunedModels/my-model-123", for: .gemini) == nil)
        #expect(UpstreamModelID.problem(with: "claude-sonnet-4@20250514", for: .anthropic) == nil)
        #expect(UpstreamModelID.problem(with: "claude-sonnet-4@20250514", for: .gemini) != nil)
        #expect(UpstreamModelID.problem(with: "models/../files", for: .gemini) != nil)
        #expect(UpstreamModelID.problem(with: "..", for: .anthropic) != nil)
        #expect(UpstreamModelID.problem(with: "", for: .mock) != nil)
        #expect(UpstreamModelID.problem(with: String(repeating: "a", count: 257), for: .gemini) != nil)
    }

    @Test(
        "Gemini's error inside a 200 stream reaches the client as the mapped event: error and counts as an upstream error",
        arguments: [(429, "RESOURCE_EXHAUSTED", "rate_limit_error"), (503, "UNAVAILABLE", "overloaded_error"), (500, "INTERNAL", "api_error")]
    )
    func errorAfterHead(code: Int, status: String, type: String) async throws {
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            try await writer.writeBody(#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}]}"# + "\r\n\r\n")
            try await writer.writeBody(#"data: {"error":{"code":\#(code),"message":"quota or load","status":"\#(status)"}}"# + "\r\n\r\n")
            try await writer.end()
        }
        let harness = try GatewayHarness(yaml: Self.yaml(server.baseURL))
        let response = try await harness.test { client in
            try await client.post("/v1/messages", #"{"model":"gemini-2.5-flash","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
        }
        let events = response.events
        #expect(events.contains { $0.name == "content_block_delta" }, "the text before the error went out")
        #expect(events.last?.name == "error")
        #expect((events.last?.data["error"] as? [String: Any])?["type"] as? String == type)
        #expect(((events.last?.data["error"] as? [String: Any])?["message"] as? String)?.contains("quota or load") == true)
        let record = try #require(harness.recorder.all.first)
        #expect(record.upstreamError == "stream_\(type)")
        #expect(record.errorType == type)
        #expect(harness.metric("switchboard_upstream_errors", ["gemini", "stream_\(type)"]) == 1)
        await server.stop()
    }

    @Test("a transport break mid-stream is an event: error and an upstream error, streaming or not", arguments: [true, false])
    func transportBreak(streaming: Bool) async throws {
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-type", streaming ? "text/event-stream" : "application/json")])
            try await writer.writeBody(streaming ? #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}]}"# + "\r\n\r\n" : #"{"candidates":"#)
            try await Task.sleep(for: .milliseconds(20))
            await writer.resetConnection()
        }
        let harness = try GatewayHarness(yaml: Self.yaml(server.baseURL))
        let response = try await harness.test { client in
            try await client.post("/v1/messages", #"{"model":"gemini-2.5-flash","max_tokens":5,"stream":\#(streaming),"messages":[{"role":"user","content":"hi"}]}"#)
        }
        if streaming {
            #expect(response.events.last?.name == "error")
        } else {
            #expect(response.status.code == 502)
            #expect(response.errorType == "api_error")
        }
        let record = try #require(harness.recorder.all.first)
        #expect(record.upstreamError == "stream_broken")
        #expect(harness.metric("switchboard_upstream_errors", ["gemini", "stream_broken"]) == 1)
        await server.stop()
    }
}
