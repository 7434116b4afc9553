import NIOCore
import Testing

@testable import Switchboard

@Suite("Rewriting the top-level model field in raw JSON")
struct ModelFieldRewriterTests {
    @Test(
        "only the top-level model value changes; nested and quoted lookalikes stay",
        arguments: [
            (#"{"model":"a","x":1}"#, #"{"model":"b","x":1}"#),
            (#"{ "model" : "a" }"#, #"{ "model" : "b" }"#),
            (#"{"x":{"model":"nested"},"model":"a"}"#, #"{"x":{"model":"nested"},"model":"b"}"#),
            (#"{"s":"\"model\":\"a\"","model":"a"}"#, #"{"s":"\"model\":\"a\"","model":"b"}"#),
            (#"{"list":[1,{"model":"x"},"]"],"model":"a\"q"}"#, #"{"list":[1,{"model":"x"},"]"],"model":"b"}"#),
            (#"{"n":-1.5e3,"t":true,"z":null,"model":"a"}"#, #"{"n":-1.5e3,"t":true,"z":null,"model":"b"}"#),
        ]
    )
    func rewrites(input: String, expected: String) throws {
        let output = try #require(ModelFieldRewriter.rewrite(ByteBuffer(string: input), model: "b"))
        #expect(String(buffer: output) == expected)
    }

    @Test("no top-level model string: nothing to rewrite")
    func missing() {
        #expect(ModelFieldRewriter.rewrite(ByteBuffer(string: #"{"x":{"model":"a"}}"#), model: "b") == nil)
        #expect(ModelFieldRewriter.rewrite(ByteBuffer(string: #"{"model":5}"#), model: "b") == nil)
        #expect(ModelFieldRewriter.rewrite(ByteBuffer(string: #"["model","a"]"#), model: "b") == nil)
    }

    @Test("the new name is escaped")
    func escaping() throws {
        let output = try #require(ModelFieldRewriter.rewrite(ByteBuffer(string: #"{"model":"a"}"#), model: #"we"ird"#))
        #expect(String(buffer: output) == #"{"model":"we\"ird"}"#)
    }

    @Test(
        "for Vertex: anthropic_version first, the model dropped, every other member byte for byte",
        arguments: [
            (#"{"model":"a","max_tokens":5,"stream":true}"#, #"{"anthropic_version":"vertex-2023-10-16","max_tokens":5,"stream":true}"#),
            (#"{ "messages" : [ {"model":"x"} ] , "model" : "a" }"#, #"{"anthropic_version":"vertex-2023-10-16","messages" : [ {"model":"x"} ]}"#),
            (#"{"anthropic_version":"old","model":"a"}"#, #"{"anthropic_version":"vertex-2023-10-16"}"#),
            (#"{}"#, #"{"anthropic_version":"vertex-2023-10-16"}"#),
        ]
    )
    func vertexBody(input: String, expected: String) throws {
        let output = try #require(ModelFieldRewriter.vertexBody(ByteBuffer(string: input), version: "vertex-2023-10-16", model: nil))
        #expect(String(buffer: output) == expected)
    }

    @Test("for Vertex's count-tokens the model stays in the body, as the upstream id")
    func vertexCountTokensBody() throws {
        let input = ByteBuffer(string: #"{"model":"claude-sonnet-4-5","messages":[]}"#)
        let output = try #require(ModelFieldRewriter.vertexBody(input, version: "vertex-2023-10-16", model: "claude-sonnet-4-5@20250929"))
        #expect(String(buffer: output) == #"{"anthropic_version":"vertex-2023-10-16","model":"claude-sonnet-4-5@20250929","messages":[]}"#)
        #expect(ModelFieldRewriter.vertexBody(ByteBuffer(string: "[1]"), version: "v", model: nil) == nil)
        #expect(ModelFieldRewriter.vertexBody(ByteBuffer(string: #"{"a":1"#), version: "v", model: nil) == nil)
    }
}
