import Foundation
import NIOCore
import Synchronization

/// A fake of an OpenAI-compatible Chat Completions server, as strict as OpenAI documents the real one
/// (wire.md §E): the key, the body (``ChatCompletionsRequestValidator``), and streams shaped exactly as
/// OpenAI sends them, so that Switchboard's Anthropic ⇄ OpenAI translation is tested against the rules
/// rather than against leniency.
///
/// It serves:
/// - `POST /v1/chat/completions`, with `Authorization: Bearer KEY`;
/// - Azure OpenAI's `POST /openai/deployments/{deployment}/chat/completions?api-version=YYYY-MM-DD[-preview]`,
///   with `api-key: KEY`; the deployment is the model, in the rules and in the answers, and streams open
///   with Azure's `prompt_filter_results` chunk (empty `choices`);
/// - vLLM's `POST /tokenize` (`{"model", "messages"}` or `{"model", "prompt"}`), unauthenticated as vLLM
///   guards only `/v1`: one token per 4 bytes of the text, rounded up;
/// - anything else: a 404 in OpenAI's error shape (Azure's under `/openai/`).
///
/// What a completion answers is scripted by a `fake:` directive in the prompt (see
/// ``FakeChatCompletionsServer/script(for:)``); without one it is `fake-openai heard: <prompt>`. Every
/// request is recorded and served at `GET /_fake/requests`, with counts at `GET /_fake/stats`.
public final class FakeChatCompletionsServer: Sendable {
    /// One request as received.
    public struct Recorded: Sendable {
        public let method: String
        public let path: String
        public let query: String
        public let headers: [(name: String, value: String)]
        public let body: ByteBuffer
    }

    public let server: ScriptedHTTPServer
    private let apiKey: String
    private let recorded = Mutex<[Recorded]>([])

    /// `http://127.0.0.1:PORT`: OpenAI clients take `baseURL + "/v1"`, Azure clients `baseURL` as the endpoint.
    public var baseURL: String { self.server.baseURL }
    public var requests: [Recorded] { self.recorded.withLock { $0 } }

    private init(server: ScriptedHTTPServer, apiKey: String) {
        self.server = server
        self.apiKey = apiKey
    }

    /// Starts the fake on 127.0.0.1; it accepts only `apiKey`, as a bearer token or Azure's `api-key`.
    public static func start(port: Int = 0, apiKey: String) async throws -> FakeChatCompletionsServer {
        let box = Mutex<FakeChatCompletionsServer?>(nil)
        let server = try await ScriptedHTTPServer.start(port: port) { request, writer in
            guard let fake = box.withLock({ $0 }) else { return }
            try await fake.handle(request, writer: writer)
        }
        let fake = FakeChatCompletionsServer(server: server, apiKey: apiKey)
        box.withLock { $0 = fake }
        return fake
    }

    public func stop() async {
        await self.server.stop()
    }

    // MARK: - Exchange

    /// A whole answer, decided before the first byte goes out.
    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)]
        var chunks: [String]
        var streamed: Bool
        /// How long to stay silent before the body (after the head, when streamed).
        var silence: Duration = .zero

        static func json(_ status: Int, _ object: Any, headers: [(String, String)] = []) -> Reply {
            Reply(
                status: status,
                headers: [("content-type", "application/json")] + headers,
                chunks: [FakeChatCompletionsServer.serialize(object)],
                streamed: false
            )
        }
    }

    private func handle(_ request: ScriptedHTTPServer.Request, writer: ScriptedHTTPServer.ResponseWriter) async throws {
        if request.path.hasPrefix("/_fake/") {
            return try await Self.send(self.inspection(request), with: writer)
        }
        let query = String(request.uri.drop { $0 != "?" }.dropFirst())
        let record = Recorded(
            method: request.method,
            path: request.path,
            query: query,
            headers: request.headers,
            body: request.body
        )
        self.recorded.withLock { $0.append(record) }
        try await Self.send(self.reply(to: request, query: query), with: writer)
    }

    private static func send(_ reply: Reply, with writer: ScriptedHTTPServer.ResponseWriter) async throws {
        guard reply.streamed else {
            if reply.silence > .zero { try await Task.sleep(for: reply.silence) }
            return try await writer.respond(status: reply.status, headers: reply.headers, body: reply.chunks.joined())
        }
        try await writer.writeHead(status: reply.status, headers: reply.headers)
        if reply.silence > .zero { try await Task.sleep(for: reply.silence) }
        for (index, chunk) in reply.chunks.enumerated() {
            // A few milliseconds apart, so the client sees the events as separate reads.
            if index > 0 { try await Task.sleep(for: .milliseconds(2)) }
            try await writer.writeBody(chunk)
        }
        try await writer.end()
    }

    private func inspection(_ request: ScriptedHTTPServer.Request) -> Reply {
        switch (request.method, request.path) {
        case ("GET", "/_fake/requests"):
            let list: [[String: Any]] = self.requests.map { recorded in
                [
                    "method": recorded.method,
                    "path": recorded.path,
                    "query": recorded.query,
                    "headers": Dictionary(
                        recorded.headers.map { ($0.name.lowercased(), $0.value) },
                        uniquingKeysWith: { $1 }
                    ),
                    "body": Self.parsedBody(recorded.body),
                ]
            }
            return .json(200, list)
        case ("GET", "/_fake/stats"):
            return .json(
                200,
                [
                    "connections": self.server.acceptedConnections,
                    // Counting the one asking.
                    "open_connections": self.server.acceptedConnections - self.server.closedConnections,
                    "requests": self.requests.count,
                ]
            )
        default:
            return Self.invalidURL(request)
        }
    }

    // MARK: - Routing

    private func reply(to request: ScriptedHTTPServer.Request, query: String) -> Reply {
        if request.method == "POST", request.path == "/v1/chat/completions" {
            if let refusal = self.bearerRefusal(request.header("authorization")) { return refusal }
            return self.completion(request, dialect: .openAI)
        }
        if request.path.hasPrefix("/openai/") {
            return self.azure(request, query: query)
        }
        if request.method == "POST", request.path == "/tokenize" {
            return Self.tokenize(request.body)
        }
        return Self.invalidURL(request)
    }

    /// Why a bearer token is refused, if it is.
    private func bearerRefusal(_ authorization: String?) -> Reply? {
        let prefix = "Bearer "
        guard let authorization, authorization.hasPrefix(prefix) else {
            return Self.failure(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth "
                    + "(i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing "
                    + "the API from your browser and are prompted for a username and password. You can obtain an API key from "
                    + "https://platform.openai.com/account/api-keys."
            )
        }
        let key = String(authorization.dropFirst(prefix.count))
        guard key == self.apiKey else { return Self.incorrectKey(key) }
        return nil
    }

    static func incorrectKey(_ key: String) -> Reply {
        // The API shows the key's ends only.
        let masked =
            key.count > 9 ? "\(key.prefix(5))\(String(repeating: "*", count: key.count - 9))\(key.suffix(4))" : "***"
        return failure(
            401,
            "Incorrect API key provided: \(masked). You can find your API key at https://platform.openai.com/account/api-keys.",
            code: "invalid_api_key"
        )
    }

    /// Azure OpenAI: `api-version` is required (its absence is Azure's 404) and must be a version Azure
    /// names, `YYYY-MM-DD` or `YYYY-MM-DD-preview` (else Azure's 400); reasoning deployments need
    /// 2024-12-01-preview or later.
    private func azure(_ request: ScriptedHTTPServer.Request, query: String) -> Reply {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false)
        // "", "openai", "deployments", NAME, "chat", "completions"
        guard request.method == "POST", segments.count == 6, segments[2] == "deployments", !segments[3].isEmpty,
            segments[4] == "chat", segments[5] == "completions",
            let version = Self.queryItems(query).first(where: { $0.name == "api-version" })?.value
        else {
            return .json(404, ["error": ["code": "404", "message": "Resource not found"]])
        }
        guard request.header("api-key") == self.apiKey else {
            let message =
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
                + "for an active subscription and use a correct regional API endpoint for your resource."
            return .json(401, ["error": ["code": "401", "message": message]])
        }
        guard Self.isAzureVersion(version) else {
            return .json(400, ["error": ["code": "BadRequest", "message": "API version not supported"]])
        }
        let deployment = String(segments[3]).removingPercentEncoding ?? String(segments[3])
        if ChatCompletionsRequestValidator.isReasoningModel(deployment), version < "2024-12-01-preview" {
            // Azure's own text, placeholder included.
            return .json(
                400,
                [
                    "error": [
                        "code": "BadRequest",
                        "message": "Model {modelName} is enabled only for api versions 2024-12-01-preview and later",
                    ]
                ]
            )
        }
        return self.completion(request, dialect: .azure(deployment: deployment))
    }

    private static func isAzureVersion(_ version: String) -> Bool {
        let date = version.hasSuffix("-preview") ? String(version.dropLast("-preview".count)) : version
        let fields = date.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 3, fields.map(\.count) == [4, 2, 2], fields.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) })
        else {
            return false
        }
        let month = Int(fields[1])!
        let day = Int(fields[2])!
        // The first Chat Completions API version Azure shipped.
        return (1...12).contains(month) && (1...31).contains(day) && date >= "2023-03-15"
    }

    private static func queryItems(_ query: String) -> [(name: String, value: String)] {
        query.split(separator: "&").map { item in
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = pair.count > 1 ? String(pair[1]) : ""
            return (String(pair[0]), value.removingPercentEncoding ?? value)
        }
    }

    // MARK: - Completions

    /// What differs between OpenAI and Azure OpenAI once a request is authorized.
    enum Dialect {
        case openAI
        case azure(deployment: String)

        var deployment: String? {
            if case .azure(let deployment) = self { return deployment }
            return nil
        }
    }

    private func completion(_ request: ScriptedHTTPServer.Request, dialect: Dialect) -> Reply {
        guard
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body.readableBytesView))) as? [String: Any]
        else {
            return Self.failure(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library "
                    + "correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble "
                    + "figuring out how to fix this, please contact us through our help center at help.openai.com.)"
            )
        }
        if let refusal = ChatCompletionsRequestValidator(deployment: dialect.deployment).validate(body) {
            return .json(400, ["error": refusal.json], headers: Self.commonHeaders)
        }
        let model = dialect.deployment ?? (body["model"] as? String ?? "")
        let context = ChatCompletionsRenderer.Context(
            model: model,
            streamed: body["stream"] as? Bool == true,
            azure: dialect.deployment != nil,
            promptTokens: (request.body.readableBytes + 3) / 4
        )
        switch Self.script(for: body, model: model) {
        case .failure(let reply):
            return reply
        case .answer(var answer, let delivery):
            if ChatCompletionsRequestValidator.isDeepSeekThinkingModel(model), answer.reasoning == nil {
                // DeepSeek's thinking models reason before every answer, calls included.
                answer.reasoning = "Thinking it over."
                answer.reasoningField = .reasoningContent
            }
            let renderer = ChatCompletionsRenderer(context: context)
            var reply: Reply
            if context.streamed {
                reply = Reply(
                    status: 200,
                    headers: [("content-type", "text/event-stream; charset=utf-8")] + Self.commonHeaders,
                    chunks: renderer.events(answer, delivery),
                    streamed: true
                )
            } else {
                reply = .json(200, renderer.completion(answer, delivery), headers: Self.commonHeaders)
            }
            reply.silence = delivery.silence
            return reply
        }
    }

    /// Headers every OpenAI answer carries.
    static var commonHeaders: [(String, String)] {
        [
            ("x-request-id", "req_\(randomString(32, from: "0123456789abcdef"))"), ("openai-processing-ms", "42"),
            ("openai-version", "2020-10-01"),
        ]
    }

    // MARK: - vLLM /tokenize

    /// vLLM's count of a prompt or a conversation: one token per 4 bytes of text (message contents, and
    /// tool calls' names and arguments), rounded up. Errors in vLLM's own shape.
    private static func tokenize(_ bytes: ByteBuffer) -> Reply {
        func refuse(_ message: String) -> Reply {
            .json(
                400,
                ["object": "error", "message": message, "type": "BadRequestError", "param": NSNull(), "code": 400]
            )
        }
        guard let body = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any]
        else {
            return refuse("Invalid JSON body.")
        }
        let text: String
        if let prompt = body["prompt"] {
            guard let prompt = prompt as? String, body["messages"] == nil else {
                return refuse("Either 'prompt' (a string) or 'messages' must be given, not both.")
            }
            text = prompt
        } else if let messages = body["messages"] as? [[String: Any]], !messages.isEmpty {
            text = messages.map(Self.countedText(of:)).joined()
        } else {
            return refuse("Field required: 'messages' (a non-empty list) or 'prompt'.")
        }
        let count = (text.utf8.count + 3) / 4
        return .json(
            200,
            ["count": count, "max_model_len": 128_000, "tokens": Array(0..<count), "token_strs": NSNull()]
        )
    }

    private static func countedText(of message: [String: Any]) -> String {
        let calls = (message["tool_calls"] as? [[String: Any]] ?? []).compactMap { $0["function"] as? [String: Any] }
        return texts(of: message).joined()
            + calls.map { ($0["name"] as? String ?? "") + ($0["arguments"] as? String ?? "") }.joined()
    }

    /// The text of a message's content: a string, or its text parts.
    static func texts(of message: [String: Any]) -> [String] {
        if let text = message["content"] as? String { return [text] }
        let parts = message["content"] as? [[String: Any]] ?? []
        return parts.filter { $0["type"] as? String == "text" }.compactMap { $0["text"] as? String }
    }

    // MARK: - Errors

    /// OpenAI's error shape: `{"error": {"message", "type", "param", "code"}}`.
    static func failure(
        _ status: Int,
        _ message: String,
        type: String = "invalid_request_error",
        param: String? = nil,
        code: String? = nil,
        headers: [(String, String)] = []
    ) -> Reply {
        let error: [String: Any] = [
            "message": message, "type": type, "param": param ?? NSNull(), "code": code ?? NSNull(),
        ]
        return .json(status, ["error": error], headers: commonHeaders + headers)
    }

    private static func invalidURL(_ request: ScriptedHTTPServer.Request) -> Reply {
        failure(404, "Invalid URL (\(request.method) \(request.path))")
    }

    // MARK: - Helpers

    static func randomString(
        _ length: Int,
        from alphabet: String = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    ) -> String {
        let characters = Array(alphabet)
        return String((0..<length).map { _ in characters[Int.random(in: 0..<characters.count)] })
    }

    static func serialize(_ object: Any) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private static func parsedBody(_ body: ByteBuffer) -> Any {
        let data = Data(body.readableBytesView)
        guard !data.isEmpty else { return NSNull() }
        return (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
            ?? String(decoding: data, as: UTF8.self)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self.isASCII && self.isNumber }
}
