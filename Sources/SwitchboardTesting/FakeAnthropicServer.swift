import Foundation
import NIOCore
import Synchronization

/// A fake of Anthropic's Messages API, as strict as the real one about what Switchboard's passthrough
/// must get right: the key, `anthropic-version`, a well-formed body.
///
/// It answers `POST /v1/messages` (JSON or SSE) with `fake-anthropic heard: <last user text>`, and
/// `POST /v1/messages/count_tokens` with a count. A prompt with `fake:call NAME {json}` gets a `tool_use`
/// of that tool, and a request ending in tool results gets `fake-anthropic got N tool results: …`, so a
/// client's tool loop ends. Models named `fake-overloaded` and `fake-rate-limited` get Anthropic's 529
/// and 429 error bodies. ``FakeVertexServer`` hosts the same answers as Claude on Vertex AI. Every exchange is recorded — request
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

    /// A fake answering on `server`, which it may share with others (``FakeVertexServer``).
    init(server: ScriptedHTTPServer) {
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

    /// What differs between Anthropic's API and Claude on Vertex AI.
    enum Dialect {
        /// `x-api-key` and `anthropic-version` headers; the model in the body.
        case firstParty(apiKey: String)
        /// The model in the URL (`rawPredict`), or in the body for `count-tokens`; `anthropic_version:
        /// vertex-2023-10-16` in the body. The caller checked the bearer token.
        case vertex(model: String?, streaming: Bool, countingTokens: Bool)
    }

    private func handle(_ request: ScriptedHTTPServer.Request, writer: ScriptedHTTPServer.ResponseWriter, apiKey: String) async throws {
        if request.method == "GET", request.path == "/_fake/last" {
            return try await self.inspect(writer: writer)
        }
        guard request.method == "POST", request.path == "/v1/messages" || request.path == "/v1/messages/count_tokens" else {
            return try await self.send(Self.failure(404, "not_found_error", "Not found"), for: request, writer: writer)
        }
        try await self.send(Self.answer(request, dialect: .firstParty(apiKey: apiKey)), for: request, writer: writer)
    }

    /// Serves `GET /_fake/last`.
    func inspect(writer: ScriptedHTTPServer.ResponseWriter) async throws {
        try await writer.respond(status: 200, headers: [("content-type", "application/json")], body: self.lastExchangeJSON())
    }

    /// Answers a Messages request in `dialect`, and records it.
    func respond(to request: ScriptedHTTPServer.Request, dialect: Dialect, writer: ScriptedHTTPServer.ResponseWriter) async throws {
        try await self.send(Self.answer(request, dialect: dialect), for: request, writer: writer)
    }

    private func send(_ answer: Answer, for request: ScriptedHTTPServer.Request, writer: ScriptedHTTPServer.ResponseWriter) async throws {
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

    private static func failure(_ status: Int, _ type: String, _ message: String, headers: [(String, String)] = []) -> Answer {
        let body = #"{"type":"error","error":{"type":"\#(type)","message":\#(Self.quoted(message))},"request_id":"req_fake"}"#
        return Answer(status: status, headers: [("content-type", "application/json")] + headers, chunks: [body])
    }

    private static func answer(_ request: ScriptedHTTPServer.Request, dialect: Dialect) -> Answer {
        let countingTokens: Bool
        switch dialect {
        case .firstParty(let apiKey):
            guard request.header("x-api-key") == apiKey else {
                return failure(401, "authentication_error", "invalid x-api-key")
            }
            guard request.header("anthropic-version") != nil else {
                return failure(400, "invalid_request_error", "anthropic-version: header is required")
            }
            countingTokens = request.path.hasSuffix("count_tokens")
        case .vertex(_, _, let counting):
            countingTokens = counting
        }
        var parsed: [String: Any]
        do {
            parsed = try Self.parseBody(request.body, countingTokens: countingTokens, dialect: dialect)
        } catch let bodyError as BodyError {
            return failure(400, "invalid_request_error", bodyError.message)
        } catch {
            return failure(400, "invalid_request_error", "invalid JSON")
        }
        if case .vertex(let model?, _, _) = dialect { parsed["model"] = model }
        let model = parsed["model"] as! String
        if countingTokens {
            return Answer(status: 200, headers: [("content-type", "application/json")], chunks: [#"{"input_tokens":\#(request.body.readableBytes / 4)}"#])
        }
        switch model {
        case "fake-overloaded": return failure(529, "overloaded_error", "Overloaded")
        case "fake-rate-limited": return failure(429, "rate_limit_error", "Rate limited", headers: [("retry-after", "7")])
        default: break
        }
        let streaming = parsed["stream"] as? Bool == true
        let results = Self.toolResults(parsed)
        if results.isEmpty, let directive = FakeDirective(in: Self.lastUserText(parsed) ?? ""), directive.name == "call",
            let name = directive.firstWord
        {
            return Self.toolUse(name: name, input: directive.jsonObject ?? [:], model: model, streaming: streaming)
        }
        let text = results.isEmpty
            ? "fake-anthropic heard: \(Self.lastUserText(parsed) ?? "")"
            : "fake-anthropic got \(results.count) tool results: \(results.joined(separator: " "))"
        let quotedText = Self.quoted(text)
        let quotedModel = Self.quoted(model)
        if streaming {
            let half = text.index(text.startIndex, offsetBy: text.count / 2)
            return Self.events([
                ("message_start", Self.messageStart(model: model)),
                ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
                ("ping", #"{"type": "ping"}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\#(Self.quoted(String(text[..<half])))}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\#(Self.quoted(String(text[half...])))}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
                ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}"#),
                ("message_stop", #"{"type":"message_stop"}"#),
            ])
        }
        let body = #"{"id":"msg_fake","type":"message","role":"assistant","model":\#(quotedModel),"content":[{"type":"text","text":\#(quotedText)}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9}}"#
        return Answer(status: 200, headers: [("content-type", "application/json"), ("request-id", "req_fake")], chunks: [body])
    }

    private static func messageStart(model: String) -> String {
        #"{"type":"message_start","message":{"id":"msg_fake","type":"message","role":"assistant","model":\#(Self.quoted(model)),"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,"output_tokens":1}}}"#
    }

    private static func events(_ events: [(String, String)]) -> Answer {
        Answer(
            status: 200,
            headers: [("content-type", "text/event-stream; charset=utf-8"), ("request-id", "req_fake")],
            chunks: events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }
        )
    }

    /// A `tool_use` of `name`: its input streamed in two `input_json_delta` pieces, as Claude streams it.
    private static func toolUse(name: String, input: [String: Any], model: String, streaming: Bool) -> Answer {
        let id = "toolu_fake_\(UInt32.random(in: 0...UInt32.max))"
        let json = String(decoding: try! JSONSerialization.data(withJSONObject: input, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        guard streaming else {
            let body = #"{"id":"msg_fake","type":"message","role":"assistant","model":\#(Self.quoted(model)),"content":[{"type":"tool_use","id":"\#(id)","name":\#(Self.quoted(name)),"input":\#(json)}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":9}}"#
            return Answer(status: 200, headers: [("content-type", "application/json"), ("request-id", "req_fake")], chunks: [body])
        }
        let half = json.index(json.startIndex, offsetBy: json.count / 2)
        return Self.events([
            ("message_start", Self.messageStart(model: model)),
            ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"\#(id)","name":\#(Self.quoted(name)),"input":{}}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":\#(Self.quoted(String(json[..<half])))}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":\#(Self.quoted(String(json[half...])))}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ])
    }

    /// The text of each `tool_result` in the last message, when it is the user's.
    private static func toolResults(_ body: [String: Any]) -> [String] {
        guard let last = (body["messages"] as? [[String: Any]])?.last, last["role"] as? String == "user",
            let blocks = last["content"] as? [[String: Any]]
        else { return [] }
        return blocks.filter { $0["type"] as? String == "tool_result" }.map { result in
            if let text = result["content"] as? String { return text }
            let parts = (result["content"] as? [[String: Any]]) ?? []
            return parts.compactMap { $0["text"] as? String }.joined(separator: " ")
        }
    }

    private struct BodyError: Error {
        let message: String
    }

    private static func parseBody(_ body: ByteBuffer, countingTokens: Bool, dialect: Dialect) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        guard let fields = object as? [String: Any] else { throw BodyError(message: "body: Input should be an object") }
        switch dialect {
        case .firstParty:
            guard fields["model"] is String else { throw BodyError(message: "model: Field required") }
        case .vertex(let model, let streaming, _):
            guard fields["anthropic_version"] as? String == "vertex-2023-10-16" else {
                throw BodyError(message: "anthropic_version: Input should be 'vertex-2023-10-16'")
            }
            if model != nil {
                // rawPredict names the model in its URL; count-tokens reads it from the body.
                guard fields["model"] == nil else { throw BodyError(message: "model: Extra inputs are not permitted") }
            } else if !(fields["model"] is String) {
                throw BodyError(message: "model: Field required")
            }
            guard countingTokens || (fields["stream"] as? Bool ?? false) == streaming else {
                throw BodyError(message: "stream: streamRawPredict needs \"stream\": true, rawPredict a non-streaming body")
            }
        }
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
