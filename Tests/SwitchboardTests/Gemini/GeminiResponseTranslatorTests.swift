import Foundation
import NIOCore
import Testing

@testable import Switchboard

@Suite("Gemini responses → Anthropic events")
struct GeminiResponseTranslatorTests {
    func run(_ chunks: [String], tools: Set<String> = ["Bash", "Read"], signatures: ThoughtSignatures = ThoughtSignatures()) throws
        -> (events: [AnthropicEvent], translator: GeminiResponseTranslator)
    {
        var translator = GeminiResponseTranslator(model: "gemini-x", declaredTools: tools, signatures: signatures)
        var events: [AnthropicEvent] = []
        for chunk in chunks {
            events += translator.consume(try GeminiResponse(json: JSONValue.parse(chunk)))
        }
        events += try translator.finish()
        return (events, translator)
    }

    func names(_ events: [AnthropicEvent]) -> [String] { events.map(\.name) }

    @Test("thinking, then text, then parallel calls: ordered blocks, signature before the thinking stops, tool_use stop reason")
    func fullStep() throws {
        let signatures = ThoughtSignatures()
        let (events, _) = try self.run(
            [
                #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Plan…","thought":true}]}}],"usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":40}}"#,
                #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Checking."}]}}]}"#,
                #"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"Bash","args":{"n":1}},"thoughtSignature":"S1+/"},{"functionCall":{"name":"Bash","args":{}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":40,"candidatesTokenCount":20,"thoughtsTokenCount":30}}"#,
            ],
            signatures: signatures
        )
        #expect(names(events) == [
            "message_start",
            "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop",
        ])
        guard case .contentBlockDelta(0, .signature) = events[3] else { Issue.record("signature_delta must precede the thinking stop"); return }
        guard case .contentBlockStart(2, .toolUse(let first, "Bash", _)) = events[8],
            case .contentBlockStart(3, .toolUse(let second, "Bash", _)) = events[11]
        else { Issue.record("two tool_use blocks expected"); return }
        #expect(first != second, "parallel calls to one tool get distinct ids")
        #expect(signatures.signature(for: first) == "S1+/")
        #expect(signatures.signature(for: second) == nil)
        guard case .contentBlockDelta(_, .inputJSON(let arguments)) = events[12] else { Issue.record("input_json_delta expected"); return }
        #expect(arguments == "{}", "argument-less calls still send input_json_delta")
        guard case .messageDelta("tool_use", _, let usage) = events[14] else { Issue.record("tool_use expected"); return }
        #expect(usage == AnthropicUsage(inputTokens: 60, outputTokens: 50, cacheReadInputTokens: 40))
        guard case .messageStart(let start) = events[0] else { Issue.record("message_start expected"); return }
        #expect(start.usage.inputTokens == 60)
        #expect(start.usage.cacheReadInputTokens == 40)
    }

    @Test(
        "finish reasons map to stop reasons",
        arguments: [("STOP", "end_turn"), ("MAX_TOKENS", "max_tokens"), ("SAFETY", "refusal"), ("RECITATION", "refusal"), ("BLOCKLIST", "refusal")]
    )
    func finishReasons(reason: String, expected: String) throws {
        let (events, _) = try self.run([#"{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"\#(reason)"}]}"#])
        guard case .messageDelta(let stop, _, _) = events[events.count - 2] else { Issue.record("no message_delta"); return }
        #expect(stop == expected)
    }

    @Test("a blocked prompt is a refusal with no content")
    func blockedPrompt() throws {
        let (events, _) = try self.run([#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":5}}"#])
        #expect(names(events) == ["message_start", "message_delta", "message_stop"])
        guard case .messageDelta("refusal", _, _) = events[1] else { Issue.record("refusal expected"); return }
    }

    @Test("Gemini 3's empty signed text part makes no empty block")
    func emptySignedText() throws {
        let (events, _) = try self.run([
            #"{"candidates":[{"content":{"parts":[{"text":"Hello"}]}}]}"#,
            #"{"candidates":[{"content":{"parts":[{"text":"","thoughtSignature":"Zm9v"}]},"finishReason":"STOP"}]}"#,
        ])
        #expect(names(events) == ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"])
    }

    @Test("MALFORMED_FUNCTION_CALL is never an end_turn: retryable before content, not after")
    func malformed() throws {
        let before = #expect(throws: GeminiResponseTranslator.MalformedCall.self) {
            try self.run([#"{"candidates":[{"finishReason":"MALFORMED_FUNCTION_CALL","finishMessage":"bad"}]}"#])
        }
        #expect(before?.canRetry == true)
        let after = #expect(throws: GeminiResponseTranslator.MalformedCall.self) {
            try self.run([#"{"candidates":[{"content":{"parts":[{"text":"I will run it"}]},"finishReason":"UNEXPECTED_TOOL_CALL"}]}"#])
        }
        #expect(after?.canRetry == false)
        let malformedAfter = #expect(throws: GeminiResponseTranslator.MalformedCall.self) {
            try self.run([#"{"candidates":[{"content":{"parts":[{"text":"I will run it"}]},"finishReason":"MALFORMED_FUNCTION_CALL"}]}"#])
        }
        #expect(malformedAfter?.canRetry == false, "once text went out, a retry would repeat it")
    }

    @Test("a stream cut before its finish reason is an error, not a silent end")
    func truncated() {
        #expect(throws: AnthropicError.self) { try self.run([#"{"candidates":[{"content":{"parts":[{"text":"par"}]}}]}"#]) }
    }

    @Test("a call to an undeclared tool is counted")
    func unknownTool() throws {
        let (_, translator) = try self.run([#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"Nope"}}]},"finishReason":"STOP"}]}"#])
        #expect(translator.events.map(\.kind) == [.unknownTool])
    }

    @Test("the SSE decoder finds every event, its name and multi-line data, however the bytes are split")
    func serverSentEvents() {
        let stream = "data: {\"a\":1}\r\n\r\nevent: message_start\ndata: {\"b\":2}\n\n: comment\n\ndata: x\r\ndata:y é\r\n\r\ndata: {\"c\":\n"
        for size in [1, 2, 3, 7, 100] {
            var decoder = ServerSentEventDecoder()
            var found: [ServerSentEvent] = []
            var rest = Substring(stream)
            while !rest.isEmpty {
                found += decoder.append(ByteBuffer(string: String(rest.prefix(size))))
                rest = rest.dropFirst(size)
            }
            #expect(
                found == [
                    ServerSentEvent(name: nil, data: #"{"a":1}"#), ServerSentEvent(name: "message_start", data: #"{"b":2}"#),
                    ServerSentEvent(name: nil, data: "x\ny é"),
                ],
                "chunk size \(size)"
            )
            #expect(decoder.finish() == ServerSentEvent(name: nil, data: #"{"c":"#))
        }
    }

    @Test(
        "Gemini errors map to the Anthropic status and type Claude Code expects",
        arguments: [
            (400, #"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#, 401, "authentication_error"),
            (403, #"{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}"#, 403, "permission_error"),
            (404, #"{"error":{"code":404,"message":"no model","status":"NOT_FOUND"}}"#, 404, "not_found_error"),
            (429, #"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"6.5s"}]}}"#, 429, "rate_limit_error"),
            (503, #"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#, 529, "overloaded_error"),
            (500, #"{"error":{"code":500,"message":"oops","status":"INTERNAL"}}"#, 500, "api_error"),
            (504, #"{"error":{"code":504,"message":"slow","status":"DEADLINE_EXCEEDED"}}"#, 504, "timeout_error"),
            (400, #"{"error":{"code":400,"message":"bad field","status":"INVALID_ARGUMENT"}}"#, 400, "invalid_request_error"),
        ]
    )
    func errors(status: Int, body: String, expectedStatus: Int, type: String) {
        let error = GeminiErrorMapper().error(status: status, body: ByteBuffer(string: body), headers: [:])
        #expect(error.statusCode == expectedStatus)
        #expect(error.type == type)
        if status == 429 { #expect(error.headers["retry-after"] == "7") }
    }

    @Test("a retryDelay no Int can hold gives no retry-after, rather than a trap", arguments: ["infs", "1e30s", "-5s", "NaNs"])
    func implausibleRetryDelay(delay: String) {
        let body = #"{"error":{"code":429,"message":"quota","details":[{"retryDelay":"\#(delay)"}]}}"#
        let error = GeminiErrorMapper().error(status: 429, body: ByteBuffer(string: body), headers: [:])
        #expect(error.statusCode == 429)
        #expect(error.headers["retry-after"] == nil)
    }

    @Test("context overflow uses Anthropic's wording, which Claude Code compacts on")
    func contextOverflow() {
        let body = #"{"error":{"code":400,"message":"The input token count (1300000) exceeds the maximum number of tokens allowed (1048575).","status":"INVALID_ARGUMENT"}}"#
        let error = GeminiErrorMapper().error(status: 400, body: ByteBuffer(string: body), headers: [:])
        #expect(error.statusCode == 400)
        #expect(error.message == "prompt is too long: 1300000 tokens > 1048575 maximum")
    }
}
