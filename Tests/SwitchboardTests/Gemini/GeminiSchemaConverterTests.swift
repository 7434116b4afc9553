import Foundation
import SwitchboardTesting
import Testing

@testable import Switchboard

@Suite("Tool schemas with references, for Gemini")
struct GeminiSchemaConverterTests {
    /// A tool taking any JSON value: the value type refers to itself through arrays and objects.
    static let jsonValueTool = """
        {"name":"SetValue","description":"Stores any JSON value.","input_schema":{"type":"object",
         "properties":{"key":{"type":"string"},"value":{"$ref":"#/$defs/JSONValue","description":"the value"}},
         "required":["key","value"],
         "$defs":{"JSONValue":{"anyOf":[{"type":"string"},{"type":"number"},{"type":"boolean"},{"type":"null"},
           {"type":"array","items":{"$ref":"#/$defs/JSONValue"}},
           {"type":"object","additionalProperties":{"$ref":"#/$defs/JSONValue"}}]}}}}
        """

    static func claudeCodeRequest(addingTool tool: String? = nil) throws -> AnthropicRequest {
        var text = try ClaudeCodeRequestTests.fixture()
        if let tool {
            let tools = try #require(text.range(of: #""tools": ["#))
            text.insert(contentsOf: tool + ",", at: tools.upperBound)
        }
        return try anthropicRequest(text)
    }

    static func wireBytes(_ request: GeminiRequest) -> Int {
        var writer = JSONWriter()
        writer.value(request)
        return writer.bytes.count
    }

    /// Nil when the strict fake Gemini would take the request.
    static func rejection(_ request: GeminiRequest, model: String = "gemini-2.5-flash") throws -> String? {
        GeminiRequestValidator(model: model).validate(try wireJSON(request))
    }

    static func convert(_ json: String) throws -> GeminiSchemaConverter.Conversion {
        GeminiSchemaConverter.convert(try JSONValue.parse(json))
    }

    @Test("a self-referring JSON-value schema stays a $ref into $defs: bounded body, one note, accepted")
    func recursiveSchema() throws {
        let ordinary = try translator().translate(Self.claudeCodeRequest())
        let translation = try translator().translate(Self.claudeCodeRequest(addingTool: Self.jsonValueTool))
        // Inlined to a depth limit, this one tool made a 7 MB body.
        #expect(Self.wireBytes(translation.request) < 2 * Self.wireBytes(ordinary.request))

        let notes = translation.events.filter { $0.detail.hasPrefix("SetValue:") }
        #expect(notes.count == 1)
        #expect(notes.first?.kind == .schemaRewritten, "a kept reference loses nothing")
        let declarations = try #require(translation.request.tools?.first?.functionDeclarations)
        let schema = try #require(declarations.first { $0.name == "SetValue" }).parametersJsonSchema
        let value: JSONValue = .object(["$ref": .string("#/$defs/JSONValue"), "description": .string("the value")])
        #expect(schema["properties"]?["value"] == value)
        let options = schema["$defs"]?["JSONValue"]?["anyOf"]
        guard case .array(let branches)? = options else {
            Issue.record("JSONValue kept in $defs")
            return
        }
        #expect(branches[4]["items"] == .object(["$ref": .string("#/$defs/JSONValue")]))
        #expect(branches[5]["additionalProperties"] == .object(["$ref": .string("#/$defs/JSONValue")]))
        #expect(try Self.rejection(translation.request) == nil)
    }

    @Test("a diamond of shared, acyclic definitions is still inlined, each path in full")
    func diamondInlined() throws {
        let conversion = try Self.convert("""
            {"type":"object","properties":{"left":{"$ref":"#/$defs/Left"},"right":{"$ref":"#/definitions/Right"}},
             "$defs":{"Left":{"type":"object","properties":{"at":{"$ref":"#/$defs/Point"}}},
                      "Point":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}}}},
             "definitions":{"Right":{"type":"object","properties":{"at":{"$ref":"#/$defs/Point"}}}}}
            """)
        let point: JSONValue = try .parse(#"{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}}}"#)
        #expect(conversion.schema["properties"]?["left"]?["properties"]?["at"] == point)
        #expect(conversion.schema["properties"]?["right"]?["properties"]?["at"] == point)
        #expect(conversion.schema["$defs"] == nil && conversion.schema["definitions"] == nil)
        #expect(!conversion.isLossy)
        #expect(conversion.changes.filter { $0.hasPrefix("inlined") }.count == 3, "each reference named once")
    }

    @Test("mutually recursive definitions both stay in $defs; what they share acyclically is inlined")
    func mutualRecursion() throws {
        let conversion = try Self.convert("""
            {"type":"object","properties":{"root":{"$ref":"#/$defs/Folder"}},
             "$defs":{"Folder":{"type":"object","properties":{"files":{"type":"array","items":{"$ref":"#/$defs/File"}},
                                                           "meta":{"$ref":"#/$defs/Meta"}}},
                      "File":{"type":"object","properties":{"parent":{"$ref":"#/$defs/Folder"},"meta":{"$ref":"#/$defs/Meta"}}},
                      "Meta":{"type":"object","properties":{"owner":{"type":"string"}}}}}
            """)
        let definitions = conversion.schema["$defs"]
        #expect(definitions?["Folder"] != nil && definitions?["File"] != nil)
        #expect(definitions?["Meta"] == nil, "acyclic, so inlined where used")
        #expect(definitions?["File"]?["properties"]?["meta"]?["properties"]?["owner"] != nil)
        #expect(definitions?["File"]?["properties"]?["parent"] == .object(["$ref": .string("#/$defs/Folder")]))
        #expect(!conversion.isLossy)
        let request = try translator().translate(
            anthropicRequest("""
                {"model":"m","max_tokens":8,"messages":[{"role":"user","content":"hi"}],
                 "tools":[{"name":"Tree","input_schema":\(conversion.schema.jsonText)}]}
                """)
        )
        #expect(try Self.rejection(request.request) == nil)
    }

    @Test("definitions that each use the next twice are not inlined 2^40 times: the body stays near the schema's size")
    func doublingDefinitionsBounded() throws {
        let levels = 40
        var definitions: [String] = []
        for level in 0..<levels {
            let next = level + 1 < levels ? ##"{"$ref":"#/$defs/L\##(level + 1)"}"## : #"{"type":"string"}"#
            definitions.append(#""L\#(level)":{"type":"object","properties":{"a":\#(next),"b":\#(next)}}"#)
        }
        let text = ##"{"type":"object","properties":{"top":{"$ref":"#/$defs/L0"}},"$defs":{\##(definitions.joined(separator: ","))}}"##
        let conversion = try Self.convert(text)
        let inputSize = text.utf8.count
        let outputSize = conversion.schema.jsonText.utf8.count
        #expect(outputSize < inputSize + 16 * GeminiSchemaConverter.minimumInlineBudget, "\(outputSize) bytes")
        #expect(conversion.changes.contains { $0.hasPrefix("kept $ref") })
        #expect(!conversion.isLossy)
    }

    @Test("a chain of definitions deeper than the nesting limit is inlined only as far as the limit")
    func deepChainBounded() throws {
        let levels = 300
        var definitions: [String] = []
        for level in 0..<levels {
            let next = level + 1 < levels ? ##"{"$ref":"#/$defs/N\##(level + 1)"}"## : #"{"type":"string"}"#
            definitions.append(#""N\#(level)":{"type":"object","properties":{"next":\#(next)}}"#)
        }
        let conversion = try Self.convert(
            ##"{"type":"object","properties":{"head":{"$ref":"#/$defs/N0"}},"$defs":{\##(definitions.joined(separator: ","))}}"##
        )
        #expect(GeminiSchemaConverter.depth(conversion.schema) <= GeminiSchemaConverter.maximumInlinedDepth + 4)
        #expect(conversion.schema["$defs"] != nil)
    }

    @Test("a $ref that resolves nowhere is cut, one schema_rejected note; keywords beside a kept $ref are cut too")
    func cutsAreErrors() throws {
        let request = try anthropicRequest("""
            {"model":"m","max_tokens":8,"messages":[{"role":"user","content":"hi"}],"tools":[
              {"name":"Lost","input_schema":{"type":"object","properties":{
                 "a":{"$ref":"#/$defs/Missing","description":"a"},"b":{"$ref":"https://example.com/b.json"}}}},
              {"name":"Narrowed","input_schema":{"type":"object","properties":{"v":{"$ref":"#/$defs/V","maxItems":2}},
                 "$defs":{"V":{"type":"array","items":{"$ref":"#/$defs/V"}}}}}]}
            """)
        let translation = try translator().translate(request)
        #expect(translation.events.map(\.kind) == [.schemaRejected, .schemaRejected])
        #expect(translation.events.first?.detail.contains("dropped unresolvable $ref #/$defs/Missing") == true)
        #expect(translation.events.last?.detail.contains("dropped maxItems beside $ref #/$defs/V") == true)
        let declarations = try #require(translation.request.tools?.first?.functionDeclarations)
        #expect(declarations[0].parametersJsonSchema["properties"]?["a"] == .object(["description": .string("a")]))
        #expect(try Self.rejection(translation.request) == nil)
    }

    @Test("the strict fake takes references into $defs and refuses undefined ones and extra keywords beside them")
    func validatorReferenceRules() throws {
        func rejection(_ schema: String) throws -> String? {
            let body = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(
                        #"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":\#(schema)}]}]}"#
                            .utf8
                    )
                ) as? [String: Any]
            )
            return GeminiRequestValidator(model: "gemini-2.5-flash").validate(body)
        }
        let recursive = ##""$defs":{"T":{"type":"array","items":{"$ref":"#/$defs/T"}}}"##
        #expect(try rejection(##"{"type":"object","properties":{"t":{"$ref":"#/$defs/T","description":"d"}},\##(recursive)}"##) == nil)
        #expect(
            try rejection(##"{"type":"object","properties":{"t":{"$ref":"#/$defs/U"}},\##(recursive)}"##)
                == "reference to undefined schema at properties.t"
        )
        #expect(
            try rejection(##"{"type":"object","properties":{"t":{"$ref":"#/$defs/T","type":"array"}},\##(recursive)}"##)?
                .hasPrefix("$ref 'T' was set alongside unsupported fields.") == true
        )
    }
}
