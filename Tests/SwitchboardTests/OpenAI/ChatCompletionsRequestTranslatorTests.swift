import Foundation
import SwitchboardTesting
import Testing

@testable import Switchboard

/// Every translated request is also checked by the fake's validator, which refuses what OpenAI refuses:
/// a rule passing here but breaking there would fail.
@Suite("Anthropic request → Chat Completions request")
struct ChatCompletionsRequestTranslatorTests {
    struct Translated {
        let json: [String: Any]
        let events: [TranslationEvent]

        var messages: [[String: Any]] { self.json["messages"] as? [[String: Any]] ?? [] }
        var roles: [String] { self.messages.compactMap { $0["role"] as? String } }
        func kinds(_ kind: TranslationEvent.Kind) -> [String] { self.events.filter { $0.kind == kind }.map(\.detail) }
    }

    func translate(
        _ json: String,
        model: String = "gpt-4.1",
        provider: ProviderKind = .openai,
        dropParams: Bool = false,
        validate: Bool = true
    ) throws -> Translated {
        let translator = ChatCompletionsRequestTranslator(
            model: model, dialect: try #require(provider.chatCompletionsDialect), dropParams: dropParams
        )
        let translation = try translator.translate(try anthropicRequest(json))
        var writer = JSONWriter()
        writer.value(.object(translation.body))
        let body = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as! [String: Any]
        if validate, let refusal = ChatCompletionsRequestValidator().validate(body) {
            Issue.record("the fake refuses the translation: \(refusal)")
        }
        return Translated(json: body, events: translation.events)
    }

    @Test("the system prompt is the first message, without Claude Code's billing line; developer for reasoning models")
    func system() throws {
        let json = """
            {"model":"m","max_tokens":10,"system":[
              {"type":"text","text":"x-anthropic-billing-header: cc_version=2.1; cc_entrypoint=cli;"},
              {"type":"text","text":"You are Claude Code."},{"type":"text","text":"Be brief."}],
             "messages":[{"role":"user","content":"hi"}]}
            """
        let plain = try self.translate(json)
        #expect(plain.messages.first?["role"] as? String == "system")
        #expect(plain.messages.first?["content"] as? String == "You are Claude Code.\n\nBe brief.")
        #expect(plain.messages.last?["content"] as? String == "hi")
        let reasoning = try self.translate(json, model: "o3")
        #expect(reasoning.messages.first?["role"] as? String == "developer")
        // Other services keep `system` even for a reasoning model's id.
        #expect(try self.translate(json, model: "gpt-oss-120b", provider: .groq).messages.first?["role"] as? String == "system")
    }

    @Test("tool_use → assistant tool_calls with the same ids; tool_result → tool messages first, then the user's text")
    func toolLoop() throws {
        let translated = try self.translate("""
            {"model":"m","max_tokens":10,"tools":[{"name":"Read","input_schema":{"type":"object","properties":{"path":{"type":"string"}}}}],
             "messages":[
              {"role":"user","content":"read both"},
              {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Reading."},
                {"type":"tool_use","id":"toolu_A","name":"Read","input":{"path":"a"}},
                {"type":"tool_use","id":"toolu_B","name":"Read","input":{"path":"b"}}]},
              {"role":"user","content":[{"type":"text","text":"<system-reminder>x</system-reminder>"},
                {"type":"tool_result","tool_use_id":"toolu_B","content":[{"type":"text","text":"B"}]},
                {"type":"tool_result","tool_use_id":"toolu_A","content":"A","is_error":true}]}]}
            """)
        #expect(translated.roles == ["user", "assistant", "tool", "tool", "user"])
        let assistant = translated.messages[1]
        #expect(assistant["content"] as? String == "Reading.")
        let calls = assistant["tool_calls"] as? [[String: Any]] ?? []
        #expect(calls.compactMap { $0["id"] as? String } == ["toolu_A", "toolu_B"])
        let function = calls.first?["function"] as? [String: Any]
        #expect(function?["name"] as? String == "Read")
        #expect(function?["arguments"] as? String == #"{"path":"a"}"#)
        #expect(translated.messages[2]["tool_call_id"] as? String == "toolu_B")
        #expect(translated.messages[2]["content"] as? String == "B")
        #expect(translated.messages[3]["tool_call_id"] as? String == "toolu_A")
        #expect(translated.messages[4]["content"] as? String == "<system-reminder>x</system-reminder>")
        #expect(translated.events.filter(\.kind.isError).isEmpty)
    }

    @Test("a system reminder after the prompt joins the prompt's message: user and assistant alternate")
    func consecutiveUserTurns() throws {
        let translated = try self.translate("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"fake:parallel Read"},{"role":"system","content":"an environment reminder"}]}
            """)
        #expect(translated.roles == ["user"])
        let parts = translated.messages[0]["content"] as? [[String: Any]] ?? []
        #expect(parts.compactMap { $0["text"] as? String } == ["fake:parallel Read", "<system-reminder>\nan environment reminder\n</system-reminder>"])
    }

    @Test("DeepSeek gets each call's reasoning back in reasoning_content, which its thinking models require; others do not")
    func reasoningEcho() throws {
        let json = """
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","content":[{"type":"thinking","thinking":"List first.","signature":"switchboard.openai.reasoning"},
                {"type":"tool_use","id":"toolu_A","name":"Bash","input":{"command":"ls"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_A","content":"a.txt"}]},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_B","name":"Bash","input":{"command":"pwd"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_B","content":"/"}]}]}
            """
        let deepseek = try self.translate(json, model: "deepseek-reasoner", provider: .deepseek)
        #expect(deepseek.messages[1]["reasoning_content"] as? String == "List first.")
        #expect(deepseek.messages[3]["reasoning_content"] as? String == "", "a call without known reasoning still carries the field")
        #expect(try self.translate(json).messages[1]["reasoning_content"] == nil)
    }

    @Test("a call the client never answered gets a note and is counted; a result without a call becomes text, counted")
    func unmatched() throws {
        let translated = try self.translate("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_A","name":"Bash","input":{}}]},
              {"role":"user","content":[{"type":"text","text":"never mind"},{"type":"tool_result","tool_use_id":"toolu_Z","content":"late"}]}]}
            """)
        #expect(translated.roles == ["user", "assistant", "tool", "user"])
        #expect(translated.kinds(.callWithoutResult) == ["Bash"])
        #expect(translated.kinds(.resultWithoutCall) == ["toolu_Z"])
        let user = translated.messages[3]["content"] as? [[String: Any]] ?? []
        #expect(user.compactMap { $0["text"] as? String } == ["never mind", "Tool result (toolu_Z): late"])
    }

    @Test("Mistral gets nine-character ids, the same for the call and its result on every turn")
    func mistralIDs() throws {
        let json = """
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_01ABCDEFGHIJKLMNOPQRSTUV","name":"Bash","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01ABCDEFGHIJKLMNOPQRSTUV","content":"ok"}]}]}
            """
        let first = try self.translate(json, model: "mistral-large-latest", provider: .mistral)
        let call = (first.messages[1]["tool_calls"] as? [[String: Any]])?.first?["id"] as? String ?? ""
        #expect(call.count == 9 && call.allSatisfy { $0.isLetter || $0.isNumber })
        #expect(first.messages[2]["tool_call_id"] as? String == call)
        #expect(try self.translate(json, model: "mistral-large-latest", provider: .mistral).messages[2]["tool_call_id"] as? String == call)
        #expect(ToolCallIDs.upstream("abcDEF123", style: .nineAlphanumerics) == "abcDEF123", "Mistral's own ids go back unchanged")
    }

    @Test("images as image_url parts (data URI or URL); a tool result's image follows in a user message")
    func images() throws {
        let translated = try self.translate("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
                {"type":"image","source":{"type":"url","url":"https://example.com/a.jpg"}},{"type":"text","text":"what?"}]},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_S","name":"Screenshot","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_S","content":[{"type":"text","text":"taken"},
                {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}}]}]}]}
            """)
        let first = translated.messages[0]["content"] as? [[String: Any]] ?? []
        #expect(first.compactMap { ($0["image_url"] as? [String: Any])?["url"] as? String }
            == ["data:image/png;base64,iVBORw0KGgo=", "https://example.com/a.jpg"])
        #expect(translated.roles == ["user", "assistant", "tool", "user"])
        #expect(translated.messages[2]["content"] as? String == "taken")
        let following = translated.messages[3]["content"] as? [[String: Any]] ?? []
        #expect(following.compactMap { ($0["image_url"] as? [String: Any])?["url"] as? String } == ["data:image/jpeg;base64,/9j/4AAQ"])
    }

    @Test("a PDF is a file part for OpenAI, dropped and counted elsewhere; a text document is text everywhere")
    func documents() throws {
        let json = """
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":[
              {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}},
              {"type":"document","source":{"type":"text","media_type":"text/plain","data":"notes"}},{"type":"text","text":"sum up"}]}]}
            """
        let openai = try self.translate(json)
        let parts = openai.messages[0]["content"] as? [[String: Any]] ?? []
        #expect(parts.compactMap { $0["type"] as? String } == ["file", "text", "text"])
        #expect((parts[0]["file"] as? [String: Any])?["file_data"] as? String == "data:application/pdf;base64,JVBERi0x")
        let groq = try self.translate(json, model: "llama-3.3-70b-versatile", provider: .groq)
        #expect((groq.messages[0]["content"] as? [[String: Any]])?.compactMap { $0["text"] as? String } == ["notes", "sum up"])
        #expect(groq.kinds(.contentDropped).count == 1)
    }

    @Test(
        "tool_choice auto/any/tool/none → auto/required/named/none; disable_parallel_tool_use → parallel_tool_calls false",
        arguments: [
            (#"{"type":"auto"}"#, "\"auto\""), (#"{"type":"any"}"#, "\"required\""), (#"{"type":"none"}"#, "\"none\""),
            (#"{"type":"tool","name":"Read"}"#, #"{"type":"function","function":{"name":"Read"}}"#),
        ]
    )
    func toolChoice(choice: String, expected: String) throws {
        let translated = try self.translate("""
            {"model":"m","max_tokens":10,"tool_choice":\(choice.dropLast()),"disable_parallel_tool_use":true},
             "tools":[{"name":"Read","description":"Reads","input_schema":{"type":"object","properties":{},"$schema":"http://json-schema.org/draft-07/schema#"}},
               {"type":"web_search_20250305","name":"web_search"}],
             "messages":[{"role":"user","content":"hi"}]}
            """)
        func canonical(_ value: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
        }
        let wanted = try JSONSerialization.jsonObject(with: Data(expected.utf8), options: .fragmentsAllowed)
        #expect(try canonical(try #require(translated.json["tool_choice"])) == canonical(wanted))
        #expect(translated.json["parallel_tool_calls"] as? Bool == false)
        let tools = translated.json["tools"] as? [[String: Any]] ?? []
        #expect(tools.count == 1, "the server tool has no function equivalent")
        let function = tools.first?["function"] as? [String: Any]
        #expect(function?["description"] as? String == "Reads")
        #expect(function?["strict"] == nil, "strict stays off: Claude Code's schemas are not strict-mode schemas")
        #expect(translated.kinds(.contentDropped) == ["server tool web_search_20250305"])
    }

    @Test("a schema that is not an object's is replaced by an empty object schema, counted")
    func nonObjectSchema() throws {
        let translated = try self.translate("""
            {"model":"m","max_tokens":10,"tools":[{"name":"Odd","input_schema":{"type":"string"}},{"name":"Loose","input_schema":{"properties":{"a":{}}}}],
             "messages":[{"role":"user","content":"hi"}]}
            """)
        let parameters = (translated.json["tools"] as? [[String: Any]])?.compactMap { ($0["function"] as? [String: Any])?["parameters"] as? [String: Any] }
        #expect(parameters?.map { $0["type"] as? String } == ["object", "object"])
        #expect(translated.kinds(.schemaRejected) == ["Odd: not an object schema"])
        #expect(translated.kinds(.schemaRewritten) == ["Loose: type object added"])
    }

    @Test("max_tokens: max_completion_tokens for OpenAI's reasoning models, cut to the model's limit, counted")
    func maxTokens() throws {
        let json = #"{"model":"m","max_tokens":32000,"temperature":0.5,"top_p":0.9,"top_k":5,"stop_sequences":["END"],"messages":[{"role":"user","content":"hi"}]}"#
        let gpt4o = try self.translate(json, model: "gpt-4o")
        #expect(gpt4o.json["max_tokens"] as? Int == 16_384)
        #expect(gpt4o.json["temperature"] as? Double == 0.5)
        #expect(gpt4o.json["top_p"] as? Double == 0.9)
        #expect(gpt4o.json["stop"] as? [String] == ["END"])
        #expect(gpt4o.kinds(.parameterClamped) == ["max_tokens 32000 → 16384", "top_k dropped: the Chat Completions API has none"])

        let o3 = try self.translate(json, model: "o3")
        #expect(o3.json["max_completion_tokens"] as? Int == 32_000)
        #expect(o3.json["max_tokens"] == nil)
        #expect(o3.json["temperature"] == nil && o3.json["top_p"] == nil && o3.json["stop"] == nil)
        #expect(o3.kinds(.parameterClamped).count == 4)

        let deepseek = try self.translate(json, model: "deepseek-chat", provider: .deepseek)
        #expect(deepseek.json["max_tokens"] as? Int == 8_192)
        #expect(try self.translate(json, model: "gpt-5-chat-latest").json["max_tokens"] as? Int == 16_384)
        let local = try self.translate(json, model: "qwen3-coder", provider: .hostedVLLM)
        #expect(local.json["max_tokens"] as? Int == 32_000, "an unknown model's limit is its server's business")
    }

    @Test("more than four stop sequences: a 400 unless drop_params, which keeps the first four")
    func stopSequences() throws {
        let json = #"{"model":"m","max_tokens":10,"stop_sequences":["a","b","c","d","e"],"messages":[{"role":"user","content":"hi"}]}"#
        #expect(throws: AnthropicError.self) { try self.translate(json) }
        let dropped = try self.translate(json, dropParams: true)
        #expect(dropped.json["stop"] as? [String] == ["a", "b", "c", "d"])
    }

    @Test(
        "thinking → reasoning_effort on LiteLLM's thresholds, only where the model takes it",
        arguments: [(1024, "low"), (1999, "low"), (2000, "low"), (4999, "low"), (5000, "medium"), (9999, "medium"), (10000, "high"), (31999, "high")]
    )
    func reasoningEffort(budget: Int, effort: String) throws {
        let json = #"{"model":"m","max_tokens":40000,"thinking":{"type":"enabled","budget_tokens":\#(budget)},"messages":[{"role":"user","content":"hi"}]}"#
        #expect(try self.translate(json, model: "o4-mini").json["reasoning_effort"] as? String == effort)
        #expect(try self.translate(json, model: "gpt-5").json["reasoning_effort"] as? String == (budget < 2000 ? "minimal" : effort))
        #expect(try self.translate(json, model: "gpt-4.1").json["reasoning_effort"] == nil)
        #expect(try self.translate(json, model: "grok-3-mini", provider: .xai, validate: false).json["reasoning_effort"] as? String
            == (effort == "low" ? "low" : "high"), "xAI takes only low and high")
        #expect(try self.translate(json, model: "deepseek-reasoner", provider: .deepseek).json["reasoning_effort"] == nil)
        #expect(try self.translate(json, model: "openai/gpt-oss-120b", provider: .groq, validate: false).json["reasoning_effort"] as? String == effort)
    }

    @Test("output_config: effort wins over the budget; format → response_format json_schema")
    func outputConfig() throws {
        let translated = try self.translate("""
            {"model":"m","max_tokens":100,"thinking":{"type":"enabled","budget_tokens":8000},
             "output_config":{"effort":"low","format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}}}}},
             "messages":[{"role":"user","content":"hi"}]}
            """, model: "gpt-5")
        #expect(translated.json["reasoning_effort"] as? String == "low")
        let format = translated.json["response_format"] as? [String: Any]
        #expect(format?["type"] as? String == "json_schema")
        let schema = format?["json_schema"] as? [String: Any]
        #expect(schema?["name"] as? String == "response")
        #expect((schema?["schema"] as? [String: Any])?["type"] as? String == "object")
    }

    @Test("streams always ask for usage; metadata.user_id → user; a trailing prefill is dropped, counted")
    func streamUserPrefill() throws {
        let translated = try self.translate("""
            {"model":"m","max_tokens":10,"stream":true,"metadata":{"user_id":"user_abc_account__session_1"},
             "messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"{"}]}
            """)
        #expect(translated.json["stream"] as? Bool == true)
        #expect((translated.json["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        #expect(translated.json["user"] as? String == "user_abc_account__session_1")
        #expect(translated.roles == ["user"])
        #expect(translated.kinds(.contentDropped) == ["trailing assistant prefill"])
    }

    @Test("Claude Code's real first request translates into one the fake accepts")
    func claudeCodeRequest() throws {
        let url = try #require(Bundle.module.url(forResource: "claude-code-request", withExtension: "json", subdirectory: "Fixtures"))
        let translated = try self.translate(String(decoding: try Data(contentsOf: url), as: UTF8.self), model: "gpt-4.1")
        #expect((translated.json["tools"] as? [Any])?.isEmpty == false)
        #expect(translated.events.filter(\.kind.isError).map(\.kind).allSatisfy { $0 == .parameterClamped })
    }
}
