import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SwitchboardTesting
import Testing

@testable import Switchboard

/// Claude Code's WebSearch request through the gateway to the strict fake Gemini, which grounds only when
/// it is given the googleSearch tool.
@Suite("web search through the gateway")
struct GeminiWebSearchGatewayTests {
    static func body(_ model: String, stream: Bool, tools: String = "") -> String {
        """
        {"model":"\(model)","max_tokens":32000,"stream":\(stream),
         "system":[{"type":"text","text":"You are an assistant for performing a web search tool use"}],
         "messages":[{"role":"user","content":"Perform a web search for the query: fake:search swift 6.2"}],
         "tools":[{"type":"web_search_20250305","name":"web_search","max_uses":8}\(tools)]}
        """
    }

    /// The content blocks of a response, streamed (rebuilt from the events) or not.
    static func blocks(_ response: TestResponse) -> [[String: Any]] {
        guard response.headers[.contentType]?.hasPrefix("text/event-stream") == true else {
            return response.json["content"] as? [[String: Any]] ?? []
        }
        var blocks: [Int: [String: Any]] = [:]
        for event in response.events {
            guard let index = event.data["index"] as? Int else { continue }
            if event.name == "content_block_start" { blocks[index] = event.data["content_block"] as? [String: Any] }
            guard event.name == "content_block_delta", let delta = event.data["delta"] as? [String: Any] else { continue }
            if let text = delta["text"] as? String {
                let sofar = blocks[index]?["text"] as? String ?? ""
                blocks[index]?["text"] = sofar + text
            }
            if let json = delta["partial_json"] as? String {
                blocks[index]?["input"] = try? JSONSerialization.jsonObject(with: Data(json.utf8))
            }
        }
        return blocks.keys.sorted().map { blocks[$0]! }
    }

    static func usage(_ response: TestResponse) -> [String: Any]? {
        if response.headers[.contentType]?.hasPrefix("text/event-stream") == true {
            return response.events.last { $0.name == "message_delta" }?.data["usage"] as? [String: Any]
        }
        return response.json["usage"] as? [String: Any]
    }

    @Test("a WebSearch request is answered with server_tool_use and web_search_tool_result blocks", arguments: [false, true])
    func searchAnswered(stream: Bool) async throws {
        let fake = try await FakeGeminiServer.start(apiKey: GeminiProviderTests.key)
        let harness = try GatewayHarness(yaml: GeminiProviderTests.yaml(fake))
        let response = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("flash", stream: stream))
        }
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        let blocks = Self.blocks(response)
        let types = blocks.compactMap { $0["type"] as? String }
        // A whole answer puts the search first; a stream has already sent the text when grounding arrives.
        let expected = stream ? ["text", "server_tool_use", "web_search_tool_result"] : ["server_tool_use", "web_search_tool_result", "text"]
        #expect(types == expected)
        let use = try #require(blocks.first { $0["type"] as? String == "server_tool_use" })
        let result = try #require(blocks.first { $0["type"] as? String == "web_search_tool_result" })
        #expect(use["name"] as? String == "web_search")
        #expect((use["input"] as? [String: Any])?["query"] as? String == "swift 6.2 | swift 6.2 latest")
        #expect(result["tool_use_id"] as? String == use["id"] as? String)
        let sources = result["content"] as? [[String: Any]] ?? []
        #expect(sources.compactMap { $0["title"] as? String } == ["swift.org", "docs.example.com", "forums.swift.org"])
        #expect(blocks.contains { ($0["text"] as? String)?.hasPrefix("fake-gemini searched: swift 6.2") == true })
        #expect((Self.usage(response)?["server_tool_use"] as? [String: Any])?["web_search_requests"] as? Int == 2)

        let upstream = try #require(fake.requests.last)
        let sent = try JSONSerialization.jsonObject(with: Data(upstream.body.readableBytesView)) as? [String: Any]
        #expect((sent?["tools"] as? [[String: Any]])?.contains { $0["googleSearch"] != nil } == true)
        await fake.stop()
    }

    @Test("web search with function tools: a 400 naming the model on Gemini 2.5, before any upstream call; answered on Gemini 3")
    func searchWithFunctions() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: GeminiProviderTests.key)
        let harness = try GatewayHarness(yaml: GeminiProviderTests.yaml(fake))
        let tools = #",{"name":"Read","input_schema":{"type":"object","properties":{"file_path":{"type":"string"}}}}"#
        let refused = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("flash", stream: true, tools: tools))
        }
        #expect(refused.status == .badRequest)
        let error = refused.json["error"] as? [String: Any]
        #expect(error?["type"] as? String == "invalid_request_error")
        #expect((error?["message"] as? String)?.contains("gemini-2.5-flash cannot combine web search") == true)
        #expect(fake.requests.isEmpty)

        let answered = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("three", stream: false, tools: tools))
        }
        #expect(answered.status == .ok, "\(String(buffer: answered.body))")
        #expect(Self.blocks(answered).contains { $0["type"] as? String == "web_search_tool_result" })
        await fake.stop()
    }
}
