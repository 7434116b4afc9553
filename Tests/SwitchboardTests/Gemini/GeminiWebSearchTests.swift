import Foundation
import NIOCore
import SwitchboardTesting
import Testing

@testable import Switchboard

@Suite("web search: Anthropic's web_search server tool ⇄ Gemini's Google Search grounding")
struct GeminiWebSearchTests {
    /// The request Claude Code's WebSearch tool sends: the server tool alone.
    static let claudeCodeSearch = """
        {"model":"m","max_tokens":1000,"messages":[{"role":"user","content":"Perform a web search for the query: swift 6.2 release"}],
         "tools":[{"type":"web_search_20250305","name":"web_search","max_uses":8}]}
        """

    static func search(tools extra: String, choice: String = "") -> String {
        """
        {"model":"m","max_tokens":1000,"messages":[{"role":"user","content":"look it up"}]\(choice),
         "tools":[{"type":"web_search_20250305","name":"web_search"\(extra)},
                  {"name":"Read","input_schema":{"type":"object","properties":{"file_path":{"type":"string"}}}}]}
        """
    }

    static func validate(_ request: GeminiRequest, model: String) throws -> String? {
        GeminiRequestValidator(model: model).validate(try wireJSON(request))
    }

    // MARK: - Request

    @Test(
        "the web_search server tool becomes a googleSearch tool, on every family",
        arguments: ["gemini-2.5-flash", "gemini-3-flash-preview"]
    )
    func searchAlone(model: String) throws {
        let translation = try translator(model: model).translate(anthropicRequest(Self.claudeCodeSearch))
        let json = try wireJSON(translation.request)
        let tools = try #require(json["tools"] as? [[String: Any]])
        #expect(tools.count == 1)
        #expect((tools.first?["googleSearch"] as? [String: Any])?.isEmpty == true)
        #expect(json["toolConfig"] == nil, "Gemini rejects a functionCallingConfig without function declarations")
        #expect(translation.events.isEmpty)
        #expect(try Self.validate(translation.request, model: model) == nil)
    }

    @Test("with function tools: Gemini 3 circulates the server's tool calls; Gemini 2.5 is a 400 naming the model and a way out")
    func searchWithFunctions() throws {
        let request = try anthropicRequest(Self.search(tools: ""))
        let three = try translator(model: "gemini-3-flash-preview").translate(request).request
        let json = try wireJSON(three)
        let tools = try #require(json["tools"] as? [[String: Any]])
        #expect(tools.count == 2)
        #expect(tools.contains { $0["functionDeclarations"] != nil } && tools.contains { $0["googleSearch"] != nil })
        #expect((json["toolConfig"] as? [String: Any])?["includeServerSideToolInvocations"] as? Bool == true)
        #expect(try Self.validate(three, model: "gemini-3-flash-preview") == nil)

        let error = #expect(throws: AnthropicError.self) { try translator(model: "gemini-2.5-flash").translate(request) }
        #expect(error?.status == 400)
        #expect(error?.type == "invalid_request_error")
        #expect(error?.message.contains("gemini-2.5-flash") == true)
        #expect(error?.message.contains("(Read)") == true)
        #expect(error?.message.contains("Gemini 3") == true)
    }

    @Test("the fake refuses what the real service refuses: search with functions on 2.5, or on 3 without circulation")
    func fakeRefusesCombination() throws {
        let declarations: [String: Any] = ["functionDeclarations": [["name": "Read"]]]
        let search: [String: Any] = ["googleSearch": [String: Any]()]
        let contents: [[String: Any]] = [["role": "user", "parts": [["text": "hi"]]]]
        let plain: [String: Any] = ["contents": contents, "tools": [declarations, search]]
        var circulated = plain
        circulated["toolConfig"] = ["includeServerSideToolInvocations": true]
        let two = GeminiRequestValidator(model: "gemini-2.5-flash")
        let three = GeminiRequestValidator(model: "gemini-3-flash-preview")
        #expect(two.validate(circulated)?.contains("not enabled for models/gemini-2.5-flash") == true)
        #expect(three.validate(plain)?.contains("include_server_side_tool_invocations") == true)
        #expect(three.validate(circulated) == nil)
    }

    @Test("domain filters and user location, which the Gemini API cannot take, are noted; both filters at once is a 400")
    func optionsNoted() throws {
        let request = try anthropicRequest(Self.claudeCodeSearch.replacingOccurrences(
            of: #""max_uses":8"#,
            with: #""allowed_domains":["swift.org"],"user_location":{"type":"approximate","city":"Paris"}"#
        ))
        let translation = try translator(model: "gemini-2.5-flash").translate(request)
        #expect(translation.events.map(\.kind) == [.parameterClamped, .contentDropped])
        #expect(translation.webSearch?.allowedDomains == ["swift.org"])

        #expect(throws: JSONFieldError.self) {
            try anthropicRequest(Self.claudeCodeSearch.replacingOccurrences(
                of: #""max_uses":8"#, with: #""allowed_domains":["a.com"],"blocked_domains":["b.com"]"#
            ))
        }
    }

    @Test("tool_choice naming web_search cannot force Gemini to search: auto, noted, no 400")
    func forcedSearch() throws {
        let request = try anthropicRequest(Self.search(tools: "", choice: #","tool_choice":{"type":"tool","name":"web_search"}"#))
        let translation = try translator(model: "gemini-3-flash-preview").translate(request)
        let config = try #require(try wireJSON(translation.request)["toolConfig"] as? [String: Any])
        #expect(config["functionCallingConfig"] == nil)
        #expect(translation.events.contains(TranslationEvent(.parameterClamped, "tool_choice web_search → auto")))
    }

    @Test("searches in the history become the model's own text: the query and the sources, not a dropped block")
    func searchHistory() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":100,"messages":[
              {"role":"user","content":"what is new in swift?"},
              {"role":"assistant","content":[
                {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"swift news"}},
                {"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[
                  {"type":"web_search_result","url":"https://swift.org/blog","title":"swift.org","encrypted_content":"","page_age":null}]},
                {"type":"text","text":"Swift 6.2 is out."}]},
              {"role":"user","content":"thanks"}]}
            """)
        let translation = try translator().translate(request)
        let model = try wireJSON(translation.request).contents[1]
        #expect(model["role"] as? String == "model")
        #expect(model.parts.compactMap { $0["text"] as? String } == [
            "Searched the web for: swift news", "Web search results:\n- swift.org <https://swift.org/blog>", "Swift 6.2 is out.",
        ])
        #expect(translation.events.isEmpty)
    }

    // MARK: - Response

    static let grounding = """
        "groundingMetadata":{"webSearchQueries":["swift 6.2","swift 6.2 release date"],
          "groundingChunks":[{"web":{"uri":"https://vertexaisearch.cloud.google.com/grounding-api-redirect/A","title":"swift.org"}},
                             {"web":{"uri":"https://vertexaisearch.cloud.google.com/grounding-api-redirect/B","title":"forums.swift.org"}},
                             {"web":{"uri":"https://vertexaisearch.cloud.google.com/grounding-api-redirect/C","title":"example.com"}}],
          "groundingSupports":[{"segment":{"startIndex":0,"endIndex":10,"text":"Swift 6.2."},"groundingChunkIndices":[0]}],
          "searchEntryPoint":{"renderedContent":"<div></div>"}}
        """

    static func run(_ chunks: [String], webSearch: WebSearchOptions? = nil) throws -> [AnthropicEvent] {
        var translator = GeminiResponseTranslator(
            model: "gemini-x", declaredTools: [], signatures: ThoughtSignatures(), webSearch: webSearch
        )
        var events: [AnthropicEvent] = []
        for chunk in chunks { events += translator.consume(try GeminiResponse(json: JSONValue.parse(chunk))) }
        return events + (try translator.finish())
    }

    static func message(_ events: [AnthropicEvent]) throws -> [String: Any] {
        var accumulator = MessageAccumulator()
        for event in events { try accumulator.apply(event) }
        var writer = JSONWriter()
        writer.value(try accumulator.result())
        return try JSONSerialization.jsonObject(with: Data(writer.bytes)) as! [String: Any]
    }

    @Test("a whole answer: server_tool_use and web_search_tool_result first, then the text; searches counted in usage")
    func wholeAnswer() throws {
        let events = try Self.run([
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Swift 6.2 is out."}]},"finishReason":"STOP","#
                + Self.grounding + #"}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5}}"#
        ])
        let message = try Self.message(events)
        let content = try #require(message["content"] as? [[String: Any]])
        #expect(content.map { $0["type"] as? String } == ["server_tool_use", "web_search_tool_result", "text"])
        #expect(content[0]["name"] as? String == "web_search")
        let id = try #require(content[0]["id"] as? String)
        #expect(id.hasPrefix("srvtoolu_"))
        #expect((content[0]["input"] as? [String: Any])?["query"] as? String == "swift 6.2 | swift 6.2 release date")
        #expect(content[1]["tool_use_id"] as? String == id)
        let results = try #require(content[1]["content"] as? [[String: Any]])
        #expect(results.map { $0["title"] as? String } == ["swift.org", "forums.swift.org", "example.com"])
        #expect(results.allSatisfy { $0["type"] as? String == "web_search_result" })
        #expect(results.allSatisfy { $0["encrypted_content"] is String && $0.keys.contains("page_age") })
        #expect(results.first?["url"] as? String == "https://vertexaisearch.cloud.google.com/grounding-api-redirect/A")
        #expect(message["stop_reason"] as? String == "end_turn")
        let usage = try #require(message["usage"] as? [String: Any])
        #expect((usage["server_tool_use"] as? [String: Any])?["web_search_requests"] as? Int == 2)
    }

    @Test("a stream: the sources follow the text already sent, at the next indices, once though repeated")
    func streamed() throws {
        let events = try Self.run([
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Swift 6.2 "}]}}]}"#,
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":"is out."}]},"#
                + Self.grounding + #"}]}"#,
            #"{"candidates":[{"finishReason":"STOP","# + Self.grounding + #"}],"usageMetadata":{"promptTokenCount":10}}"#,
        ])
        var starts: [(Int, String)] = []
        var open: Set<Int> = []
        for event in events {
            switch event {
            case .contentBlockStart(let index, let block):
                #expect(open.isEmpty, "blocks never interleave")
                open.insert(index)
                starts.append((index, String(describing: block).prefix { $0 != "(" }.description))
            case .contentBlockDelta(let index, _):
                #expect(open == [index])
            case .contentBlockStop(let index):
                #expect(open.remove(index) != nil)
            default:
                break
            }
        }
        #expect(starts.map(\.0) == [0, 1, 2])
        #expect(starts.map(\.1) == ["text", "serverToolUse", "webSearchToolResult"])
        guard case .messageDelta(_, _, let usage) = events[events.count - 2] else { Issue.record("message_delta expected"); return }
        #expect(usage.webSearchRequests == 2)

        let sse = events.map { String(buffer: $0.serverSentEvent()) }.joined()
        #expect(sse.contains(#""content_block":{"type":"server_tool_use","id":"srvtoolu_"#))
        #expect(sse.contains(#""name":"web_search","input":{}}"#), "the input follows as input_json_delta")
        #expect(sse.contains(#""partial_json":"{\"query\":\"swift 6.2 | swift 6.2 release date\"}""#))
        #expect(sse.contains(#""content_block":{"type":"web_search_tool_result","tool_use_id":"srvtoolu_"#))
    }

    @Test("allowed and blocked domains filter the listed sources, subdomains included")
    func domainFilters() throws {
        func titles(_ options: String) throws -> [String] {
            let tool = try AnthropicTool(json: JSONValue.parse(#"{"type":"web_search_20250305","name":"web_search","# + options + "}"))
            let events = try Self.run(
                [#"{"candidates":[{"content":{"role":"model","parts":[{"text":"x"}]},"finishReason":"STOP","# + Self.grounding + "}]}"],
                webSearch: tool.webSearch
            )
            let content = try Self.message(events)["content"] as? [[String: Any]] ?? []
            let results = content.first { $0["type"] as? String == "web_search_tool_result" }?["content"] as? [[String: Any]] ?? []
            return results.compactMap { $0["title"] as? String }
        }
        #expect(try titles(#""allowed_domains":["swift.org"]"#) == ["swift.org", "forums.swift.org"])
        #expect(try titles(#""allowed_domains":["https://www.example.com/docs"]"#) == ["example.com"])
        #expect(try titles(#""blocked_domains":["forums.swift.org","example.com"]"#) == ["swift.org"])
    }

    @Test("queries that found nothing are still shown and counted")
    func queriesWithoutSources() throws {
        let events = try Self.run([
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Nothing found."}]},"finishReason":"STOP","#
                + #""groundingMetadata":{"webSearchQueries":["zzqx"]}}]}"#
        ])
        let content = try #require(try Self.message(events)["content"] as? [[String: Any]])
        #expect(content.map { $0["type"] as? String } == ["text", "server_tool_use", "web_search_tool_result"])
        #expect((content[2]["content"] as? [Any])?.isEmpty == true)
    }
}
