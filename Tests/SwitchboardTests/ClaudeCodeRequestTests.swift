import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Switchboard
import Testing

@Suite("A request exactly as Claude Code sends it")
struct ClaudeCodeRequestTests {
    /// Captured from Claude Code 2.1.329 against a local listener; long texts elided, schemas verbatim.
    static func fixture() throws -> String {
        let url = try #require(Bundle.module.url(forResource: "claude-code-request", withExtension: "json", subdirectory: "Fixtures"))
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test("is accepted — mid-conversation system turn, adaptive thinking, deferred tools — and echoed")
    func acceptedAndEchoed() async throws {
        let body = try Self.fixture()
        let harness = try GatewayHarness(yaml: "model_list: [{model_name: '*', litellm_params: {model: mock/echo}}]")
        let response = try await harness.test { client in
            try await client.post(
                "/v1/messages?beta=true",
                body,
                headers: [.authorization: "Bearer sk-anything", HTTPField.Name("anthropic-version")!: "2023-06-01"]
            )
        }
        #expect(response.status == .ok)
        let events = response.events
        #expect(events.first?.name == "message_start")
        #expect(events.last?.name == "message_stop")
        let text = events.compactMap { ($0.data["delta"] as? [String: Any])?["text"] as? String }.joined()
        #expect(text == "say hello")
        let record = try #require(harness.recorder.all.first)
        #expect(record.requestedModel == "gemini-2.5-flash")
        #expect(record.isStreaming)
        #expect(record.usage.inputTokens > 1000, "tools and system prompt count toward the estimate")
    }
}
