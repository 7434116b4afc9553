import Foundation
import NIOCore
import Synchronization

/// A fake of Anthropic's Messages API, as strict as the real one about what Switchboard's passthrough
/// must get right: the key, `anthropic-version`, a well-formed body.
///
/// It answers `POST /v1/messages` (JSON or SSE) with `fake-anthropic heard: <last user text>`, and
/// `POST /v1/messages/count_tokens` with a count. Models named `fake-overloaded` and
/// `fake-rate-limited` get Anthropic's 529 and 429 error bodies. Every exchange is recorded — request
/// bytes and headers, response bytes — and served at `GET /_fake/last` for end-to-end checks, with the number of TCP connections accepted.
public final class FakeAnthropicServer: Sendable {
    /// One recorded request and the bytes sent back.
    public struct Recorded: Sendable {
        public let path: String
        public let headers: [(name: String, value: String)]
        public let requestBody: ByteBuffer
        public let responseBody: ByteBuffer
    }

    public let server: ScriptedHTTPServer
    private let recorded = Mutex<[Recorded]>([])

    public var baseURL: String { self.server.baseURL }
    public var exchanges: [Recorded] { self.recorded.withLock { $0 } }

    private init(server: ScriptedHTTPServer) {
        self.server = server
    }

    /// Starts the fake on 127.0.0.1; it accepts only `apiKey`.
    public static func start(port: Int = 0, apiKey: String) async throws -> FakeAnthropicServer {
        let box = Mutex<FakeAnthropicServer?>(nil)
        let server = try await ScriptedHTTPServer.start(port: port) { request, writer in
            guard let fake = box.withLock({ $0 }) else { return }
            try await fake.handle(request, writer: writer, apiKey: apiKey)
        }
        let fake = FakeAnthropicServer(server: server)
        box.withLock { $0 = fake }
        return fake
    }

    public func stop() async {
        await self.server.stop()
    }

    // MARK: - Answers

    private func handle(_ request: ScriptedHTTPServer.Request, writer: ScriptedHTTPServer.ResponseWriter, apiKey: String) async throws {
        if request.method == "GET", request.path == "/_fake/last" {
            return try await writer.respond(status: 200, headers: [("content-type", "application/json")], body: self.lastExchangeJSON())
        }
        let answer = Self.answer(request, apiKey: apiKey)
        try await writer.writeHead(status: answer.status, headers: answer.headers)
        var sent = ByteBuffer()
        for chunk in answer.chunks {
            sent.writeString(chunk)
            try await writer.writeBody(chunk)
            if answer.chunks.count > 1 { try await Task.sleep(for: .milliseconds(2)) }
        }
        try await writer.end()
        let record = Recorded(path: request.path, headers: request.headers, requestBody: request.body, responseBody: sent)
        self.recorded.withLock { $0.append(record) }
    }

    private struct Answer {
        var status: Int
        var headers: [(String, String)]
        var chunks: [String]
    }

    private static func answer(_ request: ScriptedHTTPServer.Request, apiKey: String) -> Answer {
        func failure(_ status: Int, _ type: String, _ message: String, headers: [(String, String)] = []) -> Answer {
            let body = #"{"type":"error","error":{"type":"\#(type)","message":"\#(message)"},"request_id":"req_fake"}"#
            return Answer(status: status, headers: [("content-type", "application/json")] + headers, chunks: [body])
        }
        guard request.method == "POST", request.path == "/v1/messages" || request.path == "/v1/messages/count_tokens" else {
            return failure(404, "not_found_error", "Not found")
        }
        guard request.header("x-api-key") == apiKey else {
            return failure(401, "authentication_error", "invalid x-api-key")
        }
        guard request.header("anthropic-version") != nil else {
            return failure(400, "invalid_request_error", "anthropic-version: header is required")
        }
        let parsed: [String: Any]
        do {
            parsed = try Self.parseBody(request.body, countingTokens: request.path.hasSuffix("count_tokens"))
        } catch let bodyError as BodyError {
            return failure(400, "invalid_request_error", bodyError.message)
        } catch {
            return failure(400, "invalid_request_error", "invalid JSON")
        }
        let model = parsed["model"] as! String
        if request.path.hasSuffix("count_tokens") {
            return Answer(status: 200, headers: [("content-type", "application/json")], chunks: [#"{"input_tokens":\#(request.body.readableBytes / 4)}"#])
        }
        switch model {
        case "fake-overloaded": return failure(529, "overloaded_error", "Overloaded")
        case "fake-rate-limited": return failure(429, "rate_limit_error", "Rate limited", headers: [("retry-after", "7")])
        default: break
        }
        let text = "fake-anthropic heard: \(Self.lastUserText(parsed) ?? "")"
        let quotedText = Self.quoted(text)
        let quotedModel = Self.quoted(model)
        if parsed["stream"] as? Bool == true {
            let half = text.index(text.startIndex, offsetBy: text.count / 2)
            let events: [(String, String)] = [
                ("message_start", #"{"type":"message_start","message":{"id":"msg_fake","type":"message","role":"assistant","model":\#(quotedModel),"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,"output_tokens":1}}}"#),
                ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
                ("ping", #"{"type": "ping"}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\#(Self.quoted(String(text[..<half])))}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\#(Self.quoted(String(text[half...])))}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
                ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}"#),
                ("message_stop", #"{"type":"message_stop"}"#),
            ]
            return Answer(
                status: 200,
                headers: [("content-type", "text/event-stream; charset=utf-8"), ("request-id", "req_fake")],
                chunks: events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }
            )
        }
        let body = #"{"id":"msg_fake","type":"message","role":"assistant","model":\#(quotedModel),"content":[{"type":"text","text":\#(quotedText)}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9}}"#
        return Answer(status: 200, headers: [("content-type", "application/json"), ("request-id", "req_fake")], chunks: [body])
    }

    private struct BodyError: Error {
        let message: String
    }

    private static func parseBody(_ body: ByteBuffer, countingTokens: Bool) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        guard let fields = object as? [String: Any] else { throw BodyError(message: "body: Input should be an object") }
        guard fields["model"] is String else { throw BodyError(message: "model: Field required") }
        if !countingTokens {
            guard let maxTokens = fields["max_tokens"] as? Int, maxTokens >= 0 else {
                throw BodyError(message: "max_tokens: Field required")
            }
        }
        guard let messages = fields["messages"] as? [[String: Any]] else {
            throw BodyError(message: "messages: Field required")
        }
        for (index, message) in messages.enumerated() {
            guard let role = message["role"] as? String, ["user", "assistant", "system"].contains(role) else {
                throw BodyError(message: "messages.\(index).role: Input should be 'user' or 'assistant'")
            }
            guard message["content"] is String || message["content"] is [Any] else {
                throw BodyError(message: "messages.\(index).content: Field required")
            }
        }
        return fields
    }

    private static func lastUserText(_ body: [String: Any]) -> String? {
        guard let messages = body["messages"] as? [[String: Any]] else { return nil }
        for message in messages.reversed() where message["role"] as? String == "user" {
            if let text = message["content"] as? String { return text }
            let blocks = (message["content"] as? [[String: Any]]) ?? []
            if let text = blocks.reversed().first(where: { $0["type"] as? String == "text" })?["text"] as? String {
                return text
            }
        }
        return nil
    }

    private static func quoted(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    private func lastExchangeJSON() -> String {
        guard let last = self.exchanges.last else { return #"{"connections":\#(self.server.acceptedConnections)}"# }
        let object: [String: Any] = [
            "connections": self.server.acceptedConnections,
            "path": last.path,
            "headers": Dictionary(last.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 }),
            "request_body_base64": Data(last.requestBody.readableBytesView).base64EncodedString(),
            "response_body_base64": Data(last.responseBody.readableBytesView).base64EncodedString(),
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
