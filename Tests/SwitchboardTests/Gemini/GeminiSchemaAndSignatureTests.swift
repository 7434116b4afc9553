import Foundation
import Testing

@testable import Switchboard

@Suite("Tool schemas and thought signatures for Gemini")
struct GeminiSchemaAndSignatureTests {
    @Test("every tool schema of a real Claude Code request converts: no $schema or $ref left, each rewrite counted")
    func claudeCodeToolSchemas() throws {
        let url = try #require(Bundle.module.url(forResource: "claude-code-request", withExtension: "json", subdirectory: "Fixtures"))
        let request = try anthropicRequest(String(contentsOf: url, encoding: .utf8))
        let translation = try translator().translate(request)
        let declarations = try #require(translation.request.tools?.first?.functionDeclarations)
        #expect(declarations.count == request.tools?.count)
        func keys(_ value: JSONValue) -> Set<String> {
            switch value {
            case .object(let object): Set(object.keys).union(object.values.flatMap { keys($0) })
            case .array(let items): Set(items.flatMap { keys($0) })
            default: []
            }
        }
        for declaration in declarations {
            let found = keys(declaration.parametersJsonSchema)
            #expect(!found.contains("$schema"), "\(declaration.name)")
            #expect(!found.contains("$ref"), "\(declaration.name)")
            #expect(declaration.parametersJsonSchema["type"]?.stringValue == "object", "\(declaration.name)")
        }
        let rewritten = translation.events.filter { $0.kind == .schemaRewritten }
        #expect(rewritten.count == 11, "each of the fixture's 11 $schema declarations is rewritten once")
        // defer_loading tools and empty schemas still become declarations Gemini accepts.
        let placeholder = declarations.first { $0.name == "DeferredToolPlaceholder" }
        #expect(placeholder?.parametersJsonSchema["type"]?.stringValue == "object")
    }

    @Test("$ref is inlined from $defs; additionalProperties, enum, exclusiveMinimum and anyOf stay")
    func refsInlined() {
        let schema: JSONValue = try! .parse("""
            {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
             "properties":{"mode":{"$ref":"#/$defs/Mode"},"n":{"type":"integer","exclusiveMinimum":0},
                           "v":{"anyOf":[{"type":"string"},{"type":"null"}]}},
             "additionalProperties":false,"$defs":{"Mode":{"type":"string","enum":["a","b"]}}}
            """)
        let conversion = GeminiSchemaConverter.convert(schema)
        let (converted, changes) = (conversion.schema, conversion.changes)
        #expect(converted["$defs"] == nil)
        #expect(converted["properties"]?["mode"] == .object(["type": .string("string"), "enum": .array([.string("a"), .string("b")])]))
        #expect(converted["properties"]?["n"]?["exclusiveMinimum"] == .number(0))
        #expect(converted["properties"]?["v"]?["anyOf"] != nil)
        #expect(converted["additionalProperties"] == .bool(false))
        #expect(changes.contains("removed $schema"))
        #expect(changes.contains("inlined $ref #/$defs/Mode"))
    }

    @Test("a signature rides in the tool-use id and comes back byte-exact, even with + / and padding")
    func signatureInToolUseID() {
        let signatures = ThoughtSignatures()
        let signature = "CrICAdHtim827fQ+/abc/def+ghi=="
        let id = signatures.mintToolUseID(signature: signature)
        #expect(id.hasPrefix("toolu_"))
        #expect(id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        #expect(ThoughtSignatures().signature(for: id) == signature, "decoded from the id alone")
        #expect(signatures.mintToolUseID(signature: nil).contains("__sig_") == false)
    }

    @Test("Gemini 3: known signatures go back on their call; an unknown first call of a current-turn step gets the dummy, counted")
    func signaturesInHistory() throws {
        let signatures = ThoughtSignatures()
        let known = signatures.mintToolUseID(signature: "SIG+A/=")
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"old turn"},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_old","name":"Read","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_old","content":"x"}]},
              {"role":"assistant","content":"done"},
              {"role":"user","content":"new turn"},
              {"role":"assistant","content":[
                {"type":"tool_use","id":"\(known)","name":"Bash","input":{"n":1}},
                {"type":"tool_use","id":"toolu_parallel","name":"Bash","input":{"n":2}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"\(known)","content":"1"},
                {"type":"tool_result","tool_use_id":"toolu_parallel","content":"2"}]},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_lost","name":"Read","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_lost","content":"3"}]}]}
            """)
        let translation = try translator(model: "gemini-3-flash-preview", signatures: signatures).translate(request)
        let json = try wireJSON(translation.request)
        let models = json.contents.filter { $0["role"] as? String == "model" }
        #expect(models[0].parts[0]["thoughtSignature"] == nil, "earlier turns are not validated")
        #expect(models[2].parts[0]["thoughtSignature"] as? String == "SIG+A/=")
        #expect(models[2].parts[1]["thoughtSignature"] == nil, "only the first parallel call carries one")
        #expect(models[3].parts[0]["thoughtSignature"] as? String == "skip_thought_signature_validator")
        #expect(translation.events.filter { $0.kind == .signatureFallback }.map(\.detail) == ["Read"])

        let flash25 = try wireJSON(translator(model: "gemini-2.5-flash", signatures: signatures).translate(request).request)
        let lastCall = flash25.contents.filter { $0["role"] as? String == "model" }.last?.parts[0]
        #expect(lastCall?["thoughtSignature"] == nil, "2.5 does not validate: no dummy")
    }
}
