import Foundation
import SwitchboardTesting
import Testing

@testable import Switchboard

@Suite("Anthropic request → Gemini request")
struct GeminiRequestTranslatorTests {
    @Test("system blocks go to systemInstruction without Claude Code's billing line")
    func systemInstruction() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":10,"system":[
              {"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.329.136; cc_entrypoint=cli;"},
              {"type":"text","text":"You are Claude Code."},{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
             "messages":[{"role":"user","content":"hi"}]}
            """)
        let json = try wireJSON(translator().translate(request).request)
        let system = json["systemInstruction"] as? [String: Any]
        #expect(system?.parts.compactMap { $0["text"] as? String } == ["You are Claude Code.", "Be brief."])
        #expect(system?["role"] == nil)

        let plain = try wireJSON(translator().translate(anthropicRequest(#"{"model":"m","max_tokens":1,"system":"Plain.","messages":[{"role":"user","content":"hi"}]}"#)).request)
        #expect((plain["systemInstruction"] as? [String: Any])?.parts.first?["text"] as? String == "Plain.")
    }

    @Test("a mid-conversation system message becomes user text, merged with its neighbour, never a 400")
    func midConversationSystem() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":[{"type":"text","text":"Fix the bug"}]},
              {"role":"system","content":"<env>linux</env>"}]}
            """)
        let json = try wireJSON(translator().translate(request).request)
        #expect(json.contents.count == 1)
        #expect(json.contents[0]["role"] as? String == "user")
        let texts = json.contents[0].parts.compactMap { $0["text"] as? String }
        #expect(texts == ["Fix the bug", "<system-reminder>\n<env>linux</env>\n</system-reminder>"])
    }

    @Test("tool_use → functionCall; tool_result → functionResponse named from its call, output/error objects, grouped")
    func toolRoundTrip() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"list and read"},
              {"role":"assistant","content":[
                {"type":"thinking","thinking":"hmm","signature":"x"},
                {"type":"text","text":"Running both."},
                {"type":"tool_use","id":"toolu_a","name":"Bash","input":{"command":"ls"}},
                {"type":"tool_use","id":"toolu_b","name":"Read","input":{"path":"a"}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"toolu_a","content":"a.txt"},
                {"type":"tool_result","tool_use_id":"toolu_b","is_error":true,"content":[{"type":"text","text":"no such file"}]},
                {"type":"text","text":"go on"}]}]}
            """)
        let json = try wireJSON(translator().translate(request).request)
        #expect(json.contents.map { $0["role"] as? String } == ["user", "model", "user"])
        let model = json.contents[1].parts
        #expect(model.count == 3, "the thinking block is not sent back")
        #expect(model[0]["text"] as? String == "Running both.")
        let calls = model.compactMap { $0["functionCall"] as? [String: Any] }
        #expect(calls.map { $0["name"] as? String } == ["Bash", "Read"])
        #expect(calls.allSatisfy { $0["id"] == nil })
        #expect((calls[0]["args"] as? [String: Any])?["command"] as? String == "ls")
        let results = json.contents[2].parts
        let first = results[0]["functionResponse"] as? [String: Any]
        let second = results[1]["functionResponse"] as? [String: Any]
        #expect(first?["name"] as? String == "Bash")
        #expect((first?["response"] as? [String: Any])?["output"] as? String == "a.txt")
        #expect(second?["name"] as? String == "Read")
        #expect((second?["response"] as? [String: Any])?["error"] as? String == "no such file")
        #expect(results[2]["text"] as? String == "go on")
    }

    @Test("a tool_result without its tool_use becomes text, counted")
    func orphanResult() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_gone","content":"42"}]}]}
            """)
        let translation = try translator().translate(request)
        let json = try wireJSON(translation.request)
        #expect(json.contents[0].parts.first?["text"] as? String == "Tool result (toolu_gone): 42")
        #expect(translation.events.map(\.kind) == [.resultWithoutCall])
    }

    @Test("no empty text part and no empty content is sent; a trailing prefill is dropped, counted")
    func noEmptyParts() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":[{"type":"text","text":""},{"type":"text","text":"hi"}]},
              {"role":"assistant","content":[{"type":"thinking","thinking":"only thinking","signature":"s"}]},
              {"role":"user","content":"again"},
              {"role":"assistant","content":"Sure, "}]}
            """)
        let translation = try translator().translate(request)
        let json = try wireJSON(translation.request)
        #expect(json.contents.count == 1)
        #expect(json.contents[0].parts.compactMap { $0["text"] as? String } == ["hi", "again"])
        #expect(translation.events.contains { $0.kind == .contentDropped && $0.detail == "trailing assistant prefill" })
    }

    @Test("images and documents: base64 → inlineData, url → fileData, text document → text; images in tool results kept")
    func media() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_s","name":"Screenshot","input":{}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"toolu_s","content":[{"type":"text","text":"shot"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]},
                {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},
                {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBER"}},
                {"type":"document","source":{"type":"text","media_type":"text/plain","data":"notes"}}]}]}
            """)
        let flash = try wireJSON(translator(model: "gemini-2.5-flash").translate(request).request)
        let parts = flash.contents[1].parts
        #expect(parts[0]["functionResponse"] != nil)
        #expect((parts[1]["inlineData"] as? [String: Any])?["mimeType"] as? String == "image/png", "2.5: the tool's image follows its response")
        #expect((parts[2]["fileData"] as? [String: Any])?["fileUri"] as? String == "https://example.com/a.png")
        #expect((parts[3]["inlineData"] as? [String: Any])?["mimeType"] as? String == "application/pdf")
        #expect(parts[4]["text"] as? String == "notes")

        let three = try wireJSON(translator(model: "gemini-3-flash-preview").translate(request).request)
        let response = three.contents[1].parts[0]["functionResponse"] as? [String: Any]
        #expect((response?["parts"] as? [[String: Any]])?.count == 1, "Gemini 3 takes the image inside the response")
    }

    @Test("Gemini 3: a tool result's text and text documents go in the response object; only blobs in its parts")
    func toolResultTextStaysOutOfParts() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"read the notes"},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_r","name":"Read","input":{"path":"notes"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_r","content":[
                {"type":"text","text":"2 files"},
                {"type":"document","source":{"type":"text","media_type":"text/plain","data":"first notes"}},
                {"type":"document","source":{"type":"content","content":[{"type":"text","text":"second notes"}]}},
                {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
                {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjc="}},
                {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]}]}]}
            """)
        let three = try translator(model: "gemini-3-flash-preview").translate(request).request
        let json = try wireJSON(three)
        let parts = json.contents[2].parts
        let response = try #require(parts[0]["functionResponse"] as? [String: Any])
        #expect((response["response"] as? [String: Any])?["output"] as? String == "2 files\nfirst notes\nsecond notes")
        let inner = response["parts"] as? [[String: Any]] ?? []
        #expect(inner.map { ($0["inlineData"] as? [String: Any])?["mimeType"] as? String } == ["image/png", "application/pdf"])
        #expect(inner.allSatisfy { $0.keys.sorted() == ["inlineData"] })
        let file = parts[1]["fileData"] as? [String: Any]
        #expect(file?["fileUri"] as? String == "https://example.com/a.png", "a URL follows the response")
        #expect(GeminiRequestValidator(model: "gemini-3-flash-preview").validate(json) == nil)

        let flash = try wireJSON(translator(model: "gemini-2.5-flash").translate(request).request)
        let flashParts = flash.contents[2].parts
        let flashResponse = flashParts[0]["functionResponse"] as? [String: Any]
        let flashOutput = (flashResponse?["response"] as? [String: Any])?["output"] as? String
        #expect(flashOutput == "2 files\nfirst notes\nsecond notes")
        #expect(flashParts.dropFirst().allSatisfy { $0["text"] == nil }, "2.5: media after the response, no stray text")
        let media = flashParts.dropFirst().compactMap { ($0["inlineData"] as? [String: Any])?["mimeType"] as? String }
        #expect(media == ["image/png", "application/pdf"], "2.5: the blobs still reach the model")
        #expect(flashParts.contains { ($0["fileData"] as? [String: Any])?["fileUri"] as? String == "https://example.com/a.png" })
        #expect(GeminiRequestValidator(model: "gemini-2.5-flash").validate(flash) == nil)
    }

    @Test("the strict fake refuses a text part inside functionResponse.parts, as Gemini 3 does")
    func validatorRefusesTextInFunctionResponseParts() throws {
        let body = try #require(
            try JSONSerialization.jsonObject(with: Data("""
                {"contents":[
                  {"role":"user","parts":[{"text":"go"}]},
                  {"role":"model","parts":[{"functionCall":{"name":"Read","args":{}},"thoughtSignature":"skip_thought_signature_validator"}]},
                  {"role":"user","parts":[{"functionResponse":{"name":"Read","response":{"output":""},"parts":[{"text":"notes"}]}}]}]}
                """.utf8)) as? [String: Any]
        )
        #expect(
            GeminiRequestValidator(model: "gemini-3-flash-preview").validate(body)
                == "Invalid JSON payload received. Unknown name \"text\" at 'contents[2].parts[0].function_response.parts[0]': Cannot find field."
        )
    }

    @Test("tool_choice → functionCallingConfig")
    func toolChoice() throws {
        func mode(_ choice: String) throws -> [String: Any]? {
            let request = try anthropicRequest("""
                {"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                 "tools":[{"name":"Bash","input_schema":{"type":"object"}}],"tool_choice":\(choice)}
                """)
            return (try wireJSON(translator().translate(request).request)["toolConfig"] as? [String: Any])?["functionCallingConfig"] as? [String: Any]
        }
        #expect(try mode(#"{"type":"auto"}"#)?["mode"] as? String == "AUTO")
        #expect(try mode(#"{"type":"any"}"#)?["mode"] as? String == "ANY")
        #expect(try mode(#"{"type":"none"}"#)?["mode"] as? String == "NONE")
        let forced = try mode(#"{"type":"tool","name":"Bash"}"#)
        #expect(forced?["mode"] as? String == "ANY")
        #expect(forced?["allowedFunctionNames"] as? [String] == ["Bash"])
        #expect(throws: AnthropicError.self) { try mode(#"{"type":"tool","name":"Nope"}"#) }
    }

    @Test("generation settings map; more than 5 stop sequences is a 400 unless drop_params keeps the first 5")
    func generationConfig() throws {
        let body = """
            {"model":"m","max_tokens":128000,"temperature":0.5,"top_p":0.9,"top_k":40,
             "stop_sequences":["a","b","c","d","e","f"],"messages":[{"role":"user","content":"x"}]}
            """
        let error = #expect(throws: AnthropicError.self) { try translator().translate(anthropicRequest(body)) }
        #expect(error?.message.contains("stop_sequences: Gemini accepts at most 5") == true)

        let translation = try translator(dropParams: true).translate(anthropicRequest(body))
        let config = try wireJSON(translation.request)["generationConfig"] as? [String: Any]
        #expect(config?["stopSequences"] as? [String] == ["a", "b", "c", "d", "e"])
        #expect(config?["maxOutputTokens"] as? Int == 65_536)
        #expect(config?["temperature"] as? Double == 0.5)
        #expect(config?["topP"] as? Double == 0.9)
        #expect(config?["topK"] as? Int == 40)
        #expect(translation.events.filter { $0.kind == .parameterClamped }.count == 2)
    }

    @Test("output_config.format → responseMimeType + responseJsonSchema")
    func structuredOutput() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"title?"}],
             "thinking":{"type":"disabled"},
             "output_config":{"format":{"type":"json_schema","schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"title":{"type":"string"}},"required":["title"],"additionalProperties":false}}}}
            """)
        let config = try wireJSON(translator().translate(request).request)["generationConfig"] as? [String: Any]
        #expect(config?["responseMimeType"] as? String == "application/json")
        let schema = config?["responseJsonSchema"] as? [String: Any]
        #expect(schema?["$schema"] == nil)
        #expect(schema?["additionalProperties"] as? Bool == false)
    }

    @Test(
        "thinking → thinkingConfig per model family: budget on 2.5 (clamped), level on 3.x, never both",
        arguments: [
            ("gemini-2.5-flash", #"{"type":"enabled","budget_tokens":100000}"#, nil, 24_576, nil, true),
            ("gemini-2.5-pro", #"{"type":"enabled","budget_tokens":10}"#, nil, 128, nil, true),
            ("gemini-2.5-pro", #"{"type":"enabled","budget_tokens":1e20}"#, nil, 128, nil, true),  // no Int: no budget, no trap
            ("gemini-2.5-pro", #"{"type":"disabled"}"#, nil, 128, nil, false),
            ("gemini-2.5-flash", #"{"type":"disabled"}"#, nil, 0, nil, false),
            ("gemini-2.5-flash", #"{"type":"adaptive"}"#, "high", -1, nil, true),
            ("gemini-3.1-pro-preview", #"{"type":"adaptive","display":"omitted"}"#, "medium", nil, "medium", false),
            ("gemini-3.1-pro-preview", #"{"type":"disabled"}"#, nil, nil, "low", false),
            ("gemini-3-flash-preview", #"{"type":"disabled"}"#, nil, nil, "minimal", false),
            ("gemini-3-flash-preview", #"{"type":"enabled","budget_tokens":31999}"#, nil, nil, "high", true),
            ("gemini-3-flash-preview", #"{"type":"enabled","budget_tokens":2048}"#, nil, nil, "low", true),
        ] as [(String, String, String?, Int?, String?, Bool)]
    )
    func thinking(model: String, thinking: String, effort: String?, budget: Int?, level: String?, includeThoughts: Bool) throws {
        let effortJSON = effort.map { #","output_config":{"effort":"\#($0)"}"# } ?? ""
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":32000,"thinking":\(thinking)\(effortJSON),"messages":[{"role":"user","content":"x"}]}
            """)
        let config = (try wireJSON(translator(model: model).translate(request).request)["generationConfig"] as? [String: Any])?["thinkingConfig"] as? [String: Any]
        #expect(config?["thinkingBudget"] as? Int == budget)
        #expect(config?["thinkingLevel"] as? String == level)
        #expect(config?["includeThoughts"] as? Bool == includeThoughts)
        #expect(!(config?["thinkingBudget"] != nil && config?["thinkingLevel"] != nil))
    }
}
