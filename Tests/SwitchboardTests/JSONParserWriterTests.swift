import Foundation
import Testing

@testable import Switchboard

/// The gateway's own JSON reader and writer, checked against Foundation's `JSONDecoder` as the
/// independent reference.
@Suite("JSON parser and writer")
struct JSONParserWriterTests {
    /// Our parse of `text`, and Foundation's read of what our writer makes of it, both equal Foundation's read of `text`.
    private func roundTrips(_ text: String) throws -> Bool {
        let reference = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let parsed = try JSONValue.parse(text)
        var writer = JSONWriter()
        writer.value(parsed)
        let rewritten = try JSONDecoder().decode(JSONValue.self, from: Data(writer.bytes))
        return parsed == reference && rewritten == reference
    }

    @Test("a real Claude Code request reads and writes back to the same JSON")
    func claudeCodeRequest() throws {
        let url = try #require(Bundle.module.url(forResource: "claude-code-request", withExtension: "json", subdirectory: "Fixtures"))
        #expect(try self.roundTrips(String(contentsOf: url, encoding: .utf8)))
    }

    @Test(
        "strings, escapes, numbers and literals read as JSON defines them",
        arguments: [
            (#""plain""#, JSONValue.string("plain")),
            (#""caf\u00e9 \ud83d\ude00 \n\t\"\\\/""#, .string("café 😀 \n\t\"\\/")),
            (#""naïve ☕""#, .string("naïve ☕")),
            ("-0", .number(0)),
            ("1e3", .number(1000)),
            ("-1.5E-3", .number(-0.0015)),
            ("12345678901234567890", .number(12345678901234567168)),  // the nearest Double
            ("9007199254740993", .number(9007199254740992)),
            (" [true, false ,null] ", .array([.bool(true), .bool(false), .null])),
            (#"{"a":{"b":[]},"c":{}}"#, .object(["a": .object(["b": .array([])]), "c": .object([:])])),
        ]
    )
    func reads(text: String, expected: JSONValue) throws {
        #expect(try JSONValue.parse(text) == expected)
        #expect(try self.roundTrips(text))
    }

    @Test("a lone surrogate escape or invalid UTF-8 becomes U+FFFD rather than failing the request")
    func repairs() throws {
        #expect(try JSONValue.parse(#""\ud83d alone""#) == .string("\u{FFFD} alone"))
        let invalidUTF8: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0x22]
        #expect(try invalidUTF8.withUnsafeBytes { try JSONParser.parse($0) } == .string("a\u{FFFD}b"))
    }

    @Test(
        "text that is not JSON is refused with the offset of the problem",
        arguments: [
            ("", 0), ("{", 1), (#"{"a":1,}"#, 7), ("[1,]", 3), ("01", 1), ("1.", 2), ("-", 1), ("1e", 2), ("tru", 0),
            ("[1] x", 4), (#""a\x""#, 3), (#""a"#, 2), ("\"a\u{01}\"", 2), (#"{"a" 1}"#, 5), ("{1:2}", 1), ("nul", 0),
            (#""\u12""#, 3),
        ]
    )
    func refuses(text: String, offset: Int) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
        do {
            _ = try JSONParser.parse(text)
        } catch {
            #expect(error.offset == offset, "\(error)")
        }
    }

    @Test("nesting deeper than the limit is an error, not a stack overflow")
    func depthLimit() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
        let allowed = JSONParser.maximumDepth
        let fine = String(repeating: "[", count: allowed) + String(repeating: "]", count: allowed)
        #expect(try JSONValue.parse(fine).jsonText == fine)
    }

    @Test("the writer escapes what JSON requires and nothing else, like the encoder it replaces")
    func writerOutput() throws {
        var writer = JSONWriter()
        writer.object { writer in
            writer.field("text", "a/b \"q\" \\ \n\r\t\u{08}\u{0C}\u{01}\u{1F} é 😀")
            writer.field("integral", 3.0)
            writer.field("fraction", 0.25)
            writer.field("big", 1e20)
            writer.field("count", 42)
            writer.field("flag", false)
            writer.field("absent", nil as String?)
            writer.field("list", ["x", "y"])
            writer.key("nested")
            writer.array { writer in
                writer.null()
                writer.value(.object([:]))
                writer.array { _ in }
            }
        }
        #expect(
            writer.text == #"{"text":"a/b \"q\" \\ \n\r\t\b\f\u0001\u001f é 😀","integral":3,"fraction":0.25,"big":1e+20,"count":42,"#
                + #""flag":false,"list":["x","y"],"nested":[null,{},[]]}"#
        )
        let reference = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any]
        #expect(reference?["text"] as? String == "a/b \"q\" \\ \n\r\t\u{08}\u{0C}\u{01}\u{1F} é 😀")
    }

    @Test(
        "request fields of the wrong type or missing are named by their path",
        arguments: [
            (#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#, "messages.0.role: Input should be 'user', 'assistant' or 'system'"),
            (#"{"model":"m","messages":[],"tools":[{"name":"a"},{"description":"b"}]}"#, "tools.1.name: Field required"),
            (#"{"model":"m","messages":[],"max_tokens":8.5}"#, "max_tokens: Input should be a valid integer"),
            (#"{"model":"m","messages":[],"stop_sequences":["a",1]}"#, "stop_sequences.1: Input should be a valid string"),
            (#"{"model":null,"messages":[]}"#, "model: Field required"),
            (
                #"{"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":5}]}]}]}"#,
                "messages.0.content.0.content.0.text: Input should be a valid string"
            ),
            (#"{"model":"m","messages":[],"system":[{"type":"text"}]}"#, "system.0.text: Field required"),
        ]
    )
    func fieldErrors(text: String, message: String) throws {
        do {
            _ = try AnthropicRequest(json: JSONValue.parse(text))
            Issue.record("accepted \(text)")
        } catch let error as JSONFieldError {
            #expect(error.message == message)
        }
    }

    @Test("absent and null optional fields read as nil; unknown block types are kept whole")
    func optionalFields() throws {
        let request = try AnthropicRequest(
            json: JSONValue.parse(
                #"{"model":"m","max_tokens":8,"stream":null,"tool_choice":null,"messages":[{"role":"user","content":[{"type":"search_result","x":1}]}]}"#
            )
        )
        #expect(request.stream == nil && request.toolChoice == nil && request.temperature == nil)
        guard case .other(let type, let raw) = request.messages.first?.content.first else {
            Issue.record("expected an other block")
            return
        }
        #expect(type == "search_result" && raw["x"] == .number(1))
    }
}

/// Foundation's reading of JSON into a ``JSONValue``: the independent reference the parser and the
/// writer are checked against. The gateway itself never decodes `JSONValue` with `Codable`.
extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            let fields = try container.decode([String: JSONValue].self)
            self = .object(JSONObject(uniqueKeysWithValues: fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        }
    }
}

@Suite("JSON key order")
struct JSONKeyOrderTests {
    @Test("objects keep the order their keys were written in, through parse and write")
    func parseWriteKeepsOrder() throws {
        let text = #"{"zeta":1,"alpha":{"m":true,"b":null,"y":[{"q":"1","c":"2"}]},"mid":"x","beta":2}"#
        #expect(try JSONValue.parse(text).jsonText == text)
    }

    @Test("the same Claude Code request becomes the same Gemini bytes every time")
    func translationIsDeterministic() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/claude-code-request", withExtension: "json"))
        let text = try String(contentsOf: url, encoding: .utf8)
        var outputs: Set<[UInt8]> = []
        for _ in 0..<8 {
            let request = try AnthropicRequest(json: JSONValue.parse(text))
            var writer = JSONWriter()
            writer.value(try translator().translate(request).request)
            outputs.insert(writer.bytes)
        }
        #expect(outputs.count == 1)
    }
}
