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
}
