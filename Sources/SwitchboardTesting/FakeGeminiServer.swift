import Foundation
import NIOCore
import Synchronization

/// A fake of the Gemini API (`generativelanguage.googleapis.com/v1beta`), as strict as wire.md §B says
/// the real one is — the key, the body (`GeminiRequestValidator`), and Gemini 3's thought signatures,
/// which it issues and then demands back byte for byte — so that Switchboard's Anthropic ⇄ Gemini
/// translation is tested against the rules rather than against leniency.
///
/// It serves `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse` and
/// `:countTokens`. What a generation answers is scripted by a `fake:` directive in the prompt (see
/// `script(for:)`); without one it answers `fake-gemini heard: <prompt>`. Every API request is recorded
/// and served at `GET /_fake/requests`, with counts at `GET /_fake/stats`.
///
/// Generations can also be spoiled by a ``FaultPlan``, chosen by the fake rather than the client: the
/// plan given at start applies to every request, and a path prefix `/faults/SPEC` (in a client's base
/// URL: `http://127.0.0.1:PORT/faults/429=0.5,seed=3/v1beta`) puts the requests under it on the plan
/// SPEC instead — one plan, one sequence of draws and one tally per distinct SPEC, so several
/// deployments on one fake can fail differently. `/_fake/stats` reports what each plan injected.
public final class FakeGeminiServer: Sendable {
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
    private let issuedSignatures = Mutex(IssuedSignatures(capacity: 10_000))
    /// Prompts that already got their one malformed answer (`fake:malformed-once`).
    private let malformedPrompts = Mutex<Set<String>>([])
    /// The seed of a `/faults/SPEC` plan whose spec names none.
    private let faultSeed: UInt64
    private let faults: Mutex<FaultLedger>

    /// `http://127.0.0.1:PORT`, without `/v1beta`.
    public var baseURL: String { self.server.baseURL }
    public var requests: [Recorded] { self.recorded.withLock { $0 } }
    public var acceptedConnections: Int { self.server.acceptedConnections }
    /// Connections closed so far (see ``ScriptedHTTPServer/closedConnections``).
    public var closedConnections: Int { self.server.closedConnections }

    /// A fake answering on `server`, which it may share: ``FakeVertexServer`` hosts one on its own port.
    init(server: ScriptedHTTPServer, apiKey: String, faults: FaultPlan? = nil, faultSeed: UInt64 = 0) {
        self.server = server
        self.apiKey = apiKey
        self.faultSeed = faultSeed
        var ledger = FaultLedger()
        if let faults { ledger.runs[FaultLedger.defaultKey] = FaultLedger.Run(plan: faults) }
        self.faults = Mutex(ledger)
    }

    /// Starts the fake on 127.0.0.1; it accepts only `apiKey`, in `x-goog-api-key`. `faults` spoils
    /// generations outside a `/faults/SPEC` prefix; `faultSeed` seeds a prefix's plan that names no seed.
    public static func start(
        port: Int = 0,
        apiKey: String,
        faults: FaultPlan? = nil,
        faultSeed: UInt64 = 0
    ) async throws -> FakeGeminiServer {
        let box = Mutex<FakeGeminiServer?>(nil)
        let server = try await ScriptedHTTPServer.start(port: port) { request, writer in
            guard let fake = box.withLock({ $0 }) else { return }
            try await fake.handle(request, writer: writer)
        }
        let fake = FakeGeminiServer(server: server, apiKey: apiKey, faults: faults, faultSeed: faultSeed)
        box.withLock { $0 = fake }
        return fake
    }

    public func stop() async {
        await self.server.stop()
    }

    // MARK: - Exchange

    /// A whole answer, decided before the first byte goes out.
    private struct Reply: Sendable {
        var status: Int
        var contentType: String
        var chunks: [String]
        var streamed: Bool
        /// How long to stay silent before the body (after the head, when streamed).
        var silence: Duration = .zero
        /// How long to wait before the head (a `slow_head` fault).
        var headDelay: Duration = .zero
        /// Whether the connection is reset once the request is read, before any byte of the answer.
        var resetsBeforeHead = false
        var ending = Ending.end

        /// How the body ends.
        enum Ending {
            case end
            /// Silence for the duration (zero: none), then a reset.
            case reset(after: Duration)
        }

        static func json(_ status: Int, _ object: Any) -> Reply {
            Reply(status: status, contentType: "application/json; charset=UTF-8", chunks: [FakeGeminiServer.serialize(object)], streamed: false)
        }

        /// Server-sent events as `?alt=sse` frames them: data lines only, CRLF-terminated, no `[DONE]`.
        static func events(_ responses: [[String: Any]]) -> Reply {
            Reply(
                status: 200,
                contentType: "text/event-stream",
                chunks: responses.map { "data: \(FakeGeminiServer.serialize($0))\r\n\r\n" },
                streamed: true
            )
        }
    }

    func handle(_ request: ScriptedHTTPServer.Request, writer: ScriptedHTTPServer.ResponseWriter) async throws {
        if request.path.hasPrefix("/_fake/") {
            return try await Self.send(self.inspection(request), with: writer)
        }
        let query = String(request.uri.drop { $0 != "?" }.dropFirst())
        let record = Recorded(method: request.method, path: request.path, query: query, headers: request.headers, body: request.body)
        self.recorded.withLock { $0.append(record) }
        let (planKey, path) = Self.faultPrefix(of: request.path)
        if let planKey, let problem = self.preparePlan(planKey) {
            return try await Self.send(Self.failure(400, "fault plan \"\(planKey)\": \(problem)"), with: writer)
        }
        try await Self.send(self.reply(to: request, path: path, query: query, planKey: planKey), with: writer)
    }

    private static func send(_ reply: Reply, with writer: ScriptedHTTPServer.ResponseWriter) async throws {
        if reply.resetsBeforeHead { return await writer.resetConnection() }
        if reply.headDelay > .zero { try await Task.sleep(for: reply.headDelay) }
        if !reply.streamed, case .end = reply.ending {
            if reply.silence > .zero { try await Task.sleep(for: reply.silence) }
            return try await writer.respond(status: reply.status, headers: [("content-type", reply.contentType)], body: reply.chunks.joined())
        }
        // Streamed, or a JSON body that breaks off: without a content-length, so only a reset tells it short.
        try await writer.writeHead(status: reply.status, headers: [("content-type", reply.contentType)])
        if reply.silence > .zero { try await Task.sleep(for: reply.silence) }
        for (index, chunk) in reply.chunks.enumerated() {
            // A few milliseconds apart, so the client sees the chunks as separate reads.
            if index > 0 { try await Task.sleep(for: .milliseconds(3)) }
            try await writer.writeBody(chunk)
        }
        switch reply.ending {
        case .end:
            try await writer.end()
        case .reset(let silence):
            if silence > .zero { try await Task.sleep(for: silence) }
            await writer.resetConnection()
        }
    }

    private func inspection(_ request: ScriptedHTTPServer.Request) -> Reply {
        switch (request.method, request.path) {
        case ("GET", "/_fake/requests"):
            let list: [[String: Any]] = self.requests.map { recorded in
                [
                    "method": recorded.method,
                    "path": recorded.path,
                    "query": recorded.query,
                    "headers": Dictionary(recorded.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 }),
                    "body": Self.parsedBody(recorded.body),
                ]
            }
            return .json(200, list)
        case ("GET", "/_fake/stats"):
            var stats: [String: Any] = [
                "connections": self.server.acceptedConnections,
                // Counting the one asking: a client that wants to know whether the gateway hung up on a
                // silent answer looks for this to drop by one.
                "open_connections": self.server.acceptedConnections - self.server.closedConnections,
                "requests": self.requests.count,
            ]
            stats.merge(self.faults.withLock { $0.stats }) { $1 }
            return .json(200, stats)
        default:
            return Self.failure(404, "Method not found.")
        }
    }

    // MARK: - Routing

    struct Route {
        enum Method: String {
            case generateContent
            case streamGenerateContent
            case countTokens
        }

        let model: String
        let method: Method

        /// AI Studio's `/v1beta/models/{model}:{method}`.
        init?(path: String) {
            self.init(model: path, after: "/v1beta/models/")
        }

        /// `{prefix}{model}:{method}`, the model one path segment.
        init?(model path: String, after prefix: String) {
            guard path.hasPrefix(prefix) else { return nil }
            let rest = path.dropFirst(prefix.count)
            guard let colon = rest.lastIndex(of: ":"), let method = Method(rawValue: String(rest[rest.index(after: colon)...])) else {
                return nil
            }
            let model = rest[..<colon]
            guard !model.isEmpty, !model.contains("/") else { return nil }
            self.model = String(model)
            self.method = method
        }
    }

    /// What differs between the Gemini API and Vertex AI once a request is authorized.
    enum Dialect {
        case aiStudio
        /// Vertex AI: `countTokens` takes the request's fields at the top level, and a model Vertex does not
        /// serve in the location is a 404 naming the publisher model.
        case vertex(resource: String)
    }

    private func reply(to request: ScriptedHTTPServer.Request, path: String, query: String, planKey: String?) -> Reply {
        // Clients may percent-encode the colon before the method.
        let path = path.removingPercentEncoding ?? path
        guard request.method == "POST", let route = Route(path: path) else { return Self.failure(404, "Method not found.") }
        guard request.header("x-goog-api-key") == self.apiKey else {
            return Self.failure(
                400,
                "API key not valid. Please pass a valid API key.",
                details: [
                    [
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": ["service": "generativelanguage.googleapis.com"],
                    ]
                ]
            )
        }
        guard route.model.hasPrefix("gemini-") else {
            return Self.failure(
                404,
                "models/\(route.model) is not found for API version v1beta, or is not supported for \(route.method.rawValue). Call ListModels to see the list of available models and their supported methods."
            )
        }
        return self.generation(request, route: route, query: query, planKey: planKey, dialect: .aiStudio)
    }

    /// Answers an authorized Vertex AI request for a Google model (``FakeVertexServer`` checked the token);
    /// `resource` is `projects/{p}/locations/{l}/publishers/google/models/{model}` and `location` its location.
    func respondOnVertex(
        to request: ScriptedHTTPServer.Request,
        route: Route,
        resource: String,
        location: String,
        writer: ScriptedHTTPServer.ResponseWriter
    ) async throws {
        let query = String(request.uri.drop { $0 != "?" }.dropFirst())
        let record = Recorded(method: request.method, path: request.path, query: query, headers: request.headers, body: request.body)
        self.recorded.withLock { $0.append(record) }
        // Gemini 3 previews are served from the global endpoint only (wire.md §C.1).
        let globalOnly = route.model.hasPrefix("gemini-3") && route.model.contains("preview")
        guard route.model.hasPrefix("gemini-"), !globalOnly || location == "global" else {
            let message = "Publisher Model `\(resource)` was not found or your project does not have access to it. "
                + "Please ensure you are using a valid model version. For more information, see: "
                + "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"
            return try await Self.send(Self.failure(404, message), with: writer)
        }
        let reply = self.generation(request, route: route, query: query, planKey: nil, dialect: .vertex(resource: resource))
        try await Self.send(reply, with: writer)
    }

    /// A generation or a count for an authorized request, in `dialect`.
    private func generation(
        _ request: ScriptedHTTPServer.Request,
        route: Route,
        query: String,
        planKey: String?,
        dialect: Dialect
    ) -> Reply {
        let streamed = route.method == .streamGenerateContent
        // Without alt=sse the real service streams one JSON array, which Switchboard must never ask for.
        guard !streamed || Self.queryItems(query).contains(where: { $0.name == "alt" && $0.value == "sse" }) else {
            return Self.failure(400, "streamGenerateContent is only served with ?alt=sse by this fake; without it the API streams a JSON array.")
        }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(request.body.readableBytesView)) else {
            return Self.failure(400, "Invalid JSON payload received. Unexpected token.")
        }
        guard let body = parsed as? [String: Any] else {
            return Self.failure(400, "Invalid JSON payload received. Expected an object.")
        }
        if route.method == .countTokens {
            switch dialect {
            case .aiStudio: return Self.countTokens(body, model: route.model)
            case .vertex: return Self.countTokensOnVertex(body, model: route.model)
            }
        }

        let validator = GeminiRequestValidator(model: route.model, isIssuedSignature: { signature in
            self.issuedSignatures.withLock { $0.contains(signature) }
        })
        if let message = validator.validate(body) { return Self.failure(400, message) }
        let contents = (body["contents"] as? [Any]) ?? []
        let thinking = (body["generationConfig"] as? [String: Any])?["thinkingConfig"] as? [String: Any]
        let promptTokens = request.body.readableBytes / 4
        let context = Context(
            model: route.model,
            streamed: streamed,
            includeThoughts: thinking?["includeThoughts"] as? Bool == true,
            promptTokens: promptTokens,
            cachedTokens: contents.count > 4 ? promptTokens / 2 : 0,
            responseID: Self.randomID()
        )
        let reply = self.render(self.script(for: body), context)
        let key = planKey ?? FaultLedger.defaultKey
        let reused = request.indexOnConnection > 0
        let draw = self.faults.withLock { $0.draw(key, streamed: streamed, reusedConnection: reused) }
        guard let (fault, parameters) = draw else { return reply }
        return Self.spoil(reply, with: fault, parameters)
    }

    private static func queryItems(_ query: String) -> [(name: String, value: String)] {
        query.split(separator: "&").map { item in
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
        }
    }

    /// Vertex's flat body: `contents`, `systemInstruction`, `tools`, `generationConfig` at the top level and
    /// no wrapper (wire.md §C.4); the count as on AI Studio, with Vertex's `totalBillableCharacters`.
    private static func countTokensOnVertex(_ body: [String: Any], model: String) -> Reply {
        let allowed: Set<String> = ["contents", "systemInstruction", "tools", "generationConfig", "instances", "model"]
        if let extra = body.keys.sorted().first(where: { !allowed.contains($0) }) {
            return failure(400, "Invalid JSON payload received. Unknown name \"\(extra)\": Cannot find field.")
        }
        let validator = GeminiRequestValidator(model: model, purpose: .countTokens)
        if let message = validator.validate(body) { return failure(400, message) }
        let characters = serialize(body["contents"] ?? []).count
        return .json(200, ["totalTokens": serialize(body).utf8.count / 4, "totalBillableCharacters": characters])
    }

    /// `{"generateContentRequest": {"model": "models/…", …}}` or `{"contents": […]}`, validated like a
    /// generation; the count is a quarter of the inner request's bytes.
    private static func countTokens(_ body: [String: Any], model: String) -> Reply {
        let validator = GeminiRequestValidator(model: model, purpose: .countTokens)
        let inner: [String: Any]
        if let wrapped = body["generateContentRequest"] {
            if let extra = body.keys.sorted().first(where: { $0 != "generateContentRequest" }) {
                return failure(400, "Invalid JSON payload received. Unknown name \"\(extra)\": Cannot find field.")
            }
            guard let request = wrapped as? [String: Any] else {
                return failure(400, "Invalid value at 'generate_content_request' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentRequest)")
            }
            guard let name = request["model"] as? String, name.hasPrefix("models/") else {
                return failure(400, "* CountTokensRequest.generate_content_request.model: model is required and must look like \"models/{model}\".")
            }
            if let message = validator.validate(request.filter { $0.key != "model" }) { return failure(400, message) }
            inner = request
        } else {
            if let extra = body.keys.sorted().first(where: { $0 != "contents" }) {
                return failure(400, "Invalid JSON payload received. Unknown name \"\(extra)\": Cannot find field.")
            }
            if let message = validator.validate(body) { return failure(400, message) }
            inner = body
        }
        return .json(200, ["totalTokens": serialize(inner).utf8.count / 4])
    }

    // MARK: - Scripts

    /// What a generation answers, before it is shaped for the model and for streaming.
    private enum Script {
        case text(String)
        case thinking(String)
        case calls([(name: String, args: [String: Any])])
        case maxTokens(String)
        /// A candidate without content: MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, SAFETY.
        case empty(finishReason: String, extras: [String: Any])
        /// The prompt itself blocked: no candidates at all.
        case blocked
        case silence(Duration, String)
        /// An answer grounded in Google Search: the text, the queries run and the sources found.
        case grounded(String, queries: [String], sources: [(domain: String, path: String)])
        case failure(Reply)
    }

    /// Chooses the answer from the prompt — the last user content with text and no function responses
    /// (Claude Code may append reminder text to a tool-result message; that is not a new prompt).
    /// A request ending in function responses gets a summary of them, so tool loops end, unless the
    /// prompt's `fake:chain` still owes its second call.
    private func script(for body: [String: Any]) -> Script {
        let contents = (body["contents"] as? [[String: Any]]) ?? []
        let promptIndex = Self.promptIndex(contents)
        let prompt = promptIndex.map { Self.texts(of: contents[$0]).joined(separator: "\n") } ?? ""
        let directive = FakeDirective(in: prompt)

        let results = contents.last.map(Self.functionResponses(of:)) ?? []
        if !results.isEmpty {
            let steps = contents[((promptIndex ?? -1) + 1)...].filter(Self.hasFunctionCalls).count
            if directive?.name == "chain", let name = directive?.firstWord, steps == 1 {
                return .calls([(name, ["step": 2])])
            }
            let rendered = results.map { Self.serialize($0["response"] ?? [String: Any]()) }
            return .text("fake-gemini got \(results.count) tool results: \(rendered.joined(separator: " "))")
        }

        let heard = "fake-gemini heard: \(prompt)"
        guard let directive else { return .text(heard) }
        let malformed = Script.empty(
            finishReason: "MALFORMED_FUNCTION_CALL",
            extras: ["finishMessage": "Malformed function call: print(default_api.fake_tool(x=))"]
        )
        switch directive.name {
        case "thinking":
            return .thinking(heard)
        case "call":
            guard let name = directive.firstWord else { return .text(heard) }
            return .calls([(name, directive.jsonObject ?? [:])])
        case "parallel":
            guard let name = directive.firstWord else { return .text(heard) }
            return .calls([(name, ["n": 1]), (name, ["n": 2])])
        case "chain":
            guard let name = directive.firstWord else { return .text(heard) }
            return .calls([(name, ["step": 1])])
        case "error":
            return .failure(Self.scriptedError(directive.firstWord.flatMap { Int($0) } ?? 500))
        case "overflow":
            return .failure(Self.failure(400, "The input token count (1300000) exceeds the maximum number of tokens allowed (1048575)."))
        case "malformed":
            return malformed
        case "malformed-once":
            let first = self.malformedPrompts.withLock { $0.insert(prompt).inserted }
            return first ? malformed : .text(heard)
        case "unexpected-tool":
            return .empty(finishReason: "UNEXPECTED_TOOL_CALL", extras: [:])
        case "max-tokens":
            return .maxTokens("fake-gemini was cut off in the middle of")
        case "safety":
            let ratings: [[String: Any]] = [["category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true]]
            return .empty(finishReason: "SAFETY", extras: ["safetyRatings": ratings])
        case "blocked":
            return .blocked
        case "silence":
            return .silence(.seconds(directive.firstWord.flatMap { Double($0) } ?? 0), heard)
        case "search":
            // Without the googleSearch tool the model can only answer from memory.
            guard Self.searches(body) else { return .text(heard) }
            let query = directive.argument.isEmpty ? prompt : directive.argument
            return .grounded(
                "fake-gemini searched: \(query)",
                queries: [query, "\(query) latest"],
                sources: [("swift.org", "blog/swift-6"), ("docs.example.com", "guide"), ("forums.swift.org", "t/1")]
            )
        default:
            // fake:text, fake:stop and anything unknown: the plain answer.
            return .text(heard)
        }
    }

    private static func searches(_ body: [String: Any]) -> Bool {
        ((body["tools"] as? [[String: Any]]) ?? []).contains { $0["googleSearch"] != nil }
    }

    private static func parts(of content: [String: Any]) -> [[String: Any]] {
        (content["parts"] as? [[String: Any]]) ?? []
    }

    private static func texts(of content: [String: Any]) -> [String] {
        parts(of: content).filter { $0["thought"] as? Bool != true }.compactMap { $0["text"] as? String }.filter { !$0.isEmpty }
    }

    private static func functionResponses(of content: [String: Any]) -> [[String: Any]] {
        parts(of: content).compactMap { $0["functionResponse"] as? [String: Any] }
    }

    private static func hasFunctionCalls(_ content: [String: Any]) -> Bool {
        parts(of: content).contains { $0["functionCall"] != nil }
    }

    private static func promptIndex(_ contents: [[String: Any]]) -> Int? {
        let userTexts = contents.indices.filter { contents[$0]["role"] as? String == "user" && !texts(of: contents[$0]).isEmpty }
        return userTexts.last { functionResponses(of: contents[$0]).isEmpty } ?? userTexts.last
    }

    private static let statuses: [Int: String] = [
        400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
    ]

    /// Google's error shape, with the HTTP status equal to `code`.
    private static func failure(_ code: Int, _ message: String, details: [[String: Any]] = []) -> Reply {
        var error: [String: Any] = ["code": code, "message": message, "status": statuses[code] ?? "UNKNOWN"]
        if !details.isEmpty { error["details"] = details }
        return .json(code, ["error": error])
    }

    private static func scriptedError(_ code: Int) -> Reply {
        switch code {
        case 429:
            failure(
                429,
                "Resource has been exhausted (e.g. check quota).",
                details: [["@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"]]
            )
        case 503:
            failure(503, "The model is overloaded. Please try again later.")
        case 500:
            failure(500, "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")
        case 403:
            failure(403, "The caller does not have permission")
        case 404:
            failure(404, "Requested entity was not found.")
        default:
            failure(code, "fake-gemini scripted error \(code)")
        }
    }

    // MARK: - Responses

    private struct Context {
        let model: String
        let streamed: Bool
        let includeThoughts: Bool
        let promptTokens: Int
        let cachedTokens: Int
        /// One id for every chunk of a stream, as the real service sends.
        let responseID: String

        /// Gemini 3 signs its answers and always reports thinking.
        var isGemini3: Bool { self.model.hasPrefix("gemini-3") }
    }

    private enum OutputPart {
        case thought(String)
        case text(String)
        case call(name: String, args: [String: Any], signature: String?)
        /// Gemini 3's closing part of an answer without calls: empty text carrying the signature.
        case signature(String)

        var json: [String: Any] {
            switch self {
            case .thought(let text):
                return ["text": text, "thought": true]
            case .text(let text):
                return ["text": text]
            case .call(let name, let args, let signature):
                // No `id`: the Gemini API usually leaves it out, so the gateway must mint its own.
                let call: [String: Any] = ["name": name, "args": args]
                var part: [String: Any] = ["functionCall": call]
                if let signature { part["thoughtSignature"] = signature }
                return part
            case .signature(let signature):
                return ["text": "", "thoughtSignature": signature]
            }
        }

        var isCall: Bool {
            if case .call = self { return true }
            return false
        }
    }

    private func render(_ script: Script, _ context: Context) -> Reply {
        switch script {
        case .failure(let reply):
            return reply
        case .text(let text):
            return self.answer([.text(text)], finishReason: "STOP", context: context)
        case .thinking(let text):
            let thoughts: [OutputPart] = context.includeThoughts ? [.thought("Let me think…")] : []
            return self.answer(thoughts + [.text(text)], finishReason: "STOP", context: context)
        case .calls(let calls):
            // Only the first call of a step carries the signature, as with parallel calls on the real API.
            let parts = calls.enumerated().map { index, call in
                OutputPart.call(name: call.name, args: call.args, signature: index == 0 && context.isGemini3 ? self.issueSignature() : nil)
            }
            return self.answer(parts, finishReason: "STOP", context: context)
        case .maxTokens(let text):
            return self.answer([.text(text)], finishReason: "MAX_TOKENS", context: context)
        case .empty(let finishReason, let extras):
            return self.answer([], finishReason: finishReason, extras: extras, context: context)
        case .blocked:
            let response: [String: Any] = [
                "promptFeedback": ["blockReason": "SAFETY"],
                "usageMetadata": Self.usage(of: [], context, generated: false),
                "modelVersion": context.model,
                "responseId": context.responseID,
            ]
            return context.streamed ? .events([response]) : .json(200, response)
        case .grounded(let text, let queries, let sources):
            // As the service streams it: the grounding metadata rides on the last chunk, with the finish reason.
            let chunks: [[String: Any]] = sources.enumerated().map { index, source in
                let redirect = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/\(index)-\(source.path)"
                let web: [String: Any] = ["uri": redirect, "title": source.domain]
                return ["web": web]
            }
            let supports: [[String: Any]] = [
                [
                    "segment": ["startIndex": 0, "endIndex": text.utf8.count, "text": text],
                    "groundingChunkIndices": [0, 1],
                ]
            ]
            let metadata: [String: Any] = [
                "webSearchQueries": queries,
                "groundingChunks": chunks,
                "groundingSupports": supports,
                "searchEntryPoint": ["renderedContent": "<div class=\"container\">…</div>"],
            ]
            let extras: [String: Any] = ["groundingMetadata": metadata]
            return self.answer([.text(text)], finishReason: "STOP", extras: extras, context: context)
        case .silence(let delay, let text):
            var reply = self.answer([.text(text)], finishReason: "STOP", context: context)
            reply.silence = delay
            return reply
        }
    }

    /// One candidate holding `parts`, whole or — when streamed — as chunks: thoughts first in one,
    /// text in two or three, each call alone; usage on every chunk, the finish reason on the last.
    private func answer(_ parts: [OutputPart], finishReason: String, extras: [String: Any] = [:], context: Context) -> Reply {
        var parts = parts
        if context.isGemini3, !parts.isEmpty, !parts.contains(where: \.isCall) {
            parts.append(.signature(self.issueSignature()))
        }
        guard context.streamed else {
            let candidate = Self.candidate(parts, finishReason: finishReason, extras: extras)
            return .json(200, Self.response(candidate, usage: Self.usage(of: parts, context), context))
        }
        let chunks = Self.chunks(of: parts)
        var responses: [[String: Any]] = []
        var sent: [OutputPart] = []
        for (index, chunk) in chunks.enumerated() {
            sent += chunk
            let isLast = index == chunks.count - 1
            let candidate = Self.candidate(chunk, finishReason: isLast ? finishReason : nil, extras: isLast ? extras : [:])
            responses.append(Self.response(candidate, usage: Self.usage(of: sent, context), context))
        }
        return .events(responses)
    }

    private static func chunks(of parts: [OutputPart]) -> [[OutputPart]] {
        var chunks: [[OutputPart]] = []
        let thoughts = parts.filter {
            if case .thought = $0 { return true }
            return false
        }
        if !thoughts.isEmpty { chunks.append(thoughts) }
        for part in parts {
            switch part {
            case .thought:
                continue
            case .text(let text):
                chunks += pieces(of: text).map { [OutputPart.text($0)] }
            case .call:
                chunks.append([part])
            case .signature:
                // Rides with the last chunk, where the finish reason is.
                if chunks.isEmpty { chunks.append([part]) } else { chunks[chunks.count - 1].append(part) }
            }
        }
        return chunks.isEmpty ? [[]] : chunks
    }

    /// Two or three pieces of a text, as the service streams it.
    private static func pieces(of text: String) -> [String] {
        let characters = Array(text)
        let count = min(3, characters.count)
        guard count > 1 else { return [text] }
        let size = (characters.count + count - 1) / count
        return stride(from: 0, to: characters.count, by: size).map { String(characters[$0..<min($0 + size, characters.count)]) }
    }

    private static func candidate(_ parts: [OutputPart], finishReason: String?, extras: [String: Any]) -> [String: Any] {
        var candidate: [String: Any] = ["index": 0]
        if !parts.isEmpty {
            let content: [String: Any] = ["role": "model", "parts": parts.map(\.json)]
            candidate["content"] = content
        }
        if let finishReason { candidate["finishReason"] = finishReason }
        candidate.merge(extras) { $1 }
        return candidate
    }

    private static func response(_ candidate: [String: Any], usage: [String: Any], _ context: Context) -> [String: Any] {
        ["candidates": [candidate], "usageMetadata": usage, "modelVersion": context.model, "responseId": context.responseID]
    }

    /// Counts for the parts produced so far. Zero counts are left out, as proto3 JSON does, except the
    /// prompt and the total.
    private static func usage(of parts: [OutputPart], _ context: Context, generated: Bool = true) -> [String: Any] {
        var textBytes = 0
        var calls = 0
        var thought = false
        for part in parts {
            switch part {
            case .text(let text): textBytes += text.utf8.count
            case .call: calls += 1
            case .thought: thought = true
            case .signature: break
            }
        }
        let candidates = textBytes / 4 + calls
        let thoughts = generated && (thought || context.isGemini3) ? 12 : 0
        var usage: [String: Any] = [
            "promptTokenCount": context.promptTokens,
            "totalTokenCount": context.promptTokens + candidates + thoughts,
        ]
        if context.cachedTokens > 0 { usage["cachedContentTokenCount"] = context.cachedTokens }
        if candidates > 0 { usage["candidatesTokenCount"] = candidates }
        if thoughts > 0 { usage["thoughtsTokenCount"] = thoughts }
        return usage
    }

    // MARK: - Faults

    /// Which plan a path is under: `/faults/SPEC/rest` is SPEC's plan serving `/rest`; any other path
    /// the plan given at start (a nil key).
    private static func faultPrefix(of path: String) -> (planKey: String?, path: String) {
        let prefix = "/faults/"
        guard path.hasPrefix(prefix) else { return (nil, path) }
        let rest = path.dropFirst(prefix.count)
        let spec = String(rest.prefix { $0 != "/" })
        let remainder = String(rest.dropFirst(spec.count))
        return (spec.removingPercentEncoding ?? spec, remainder.isEmpty ? "/" : remainder)
    }

    /// Starts the plan `key` names on its first use; returns why, when its spec is no plan.
    private func preparePlan(_ key: String) -> String? {
        self.faults.withLock { ledger -> String? in
            guard ledger.runs[key] == nil else { return nil }
            do {
                ledger.runs[key] = FaultLedger.Run(plan: try FaultPlan(spec: key, seed: self.faultSeed))
                return nil
            } catch {
                return "\(error)"
            }
        }
    }

    /// `reply` as `fault` spoils it. A fault that breaks an answer off sends all of it but its
    /// finishing chunk first (of a JSON answer, the first half of the body), so on a stream at least
    /// one content chunk has gone out and a gateway that forwards content as it comes can no longer
    /// retry.
    private static func spoil(
        _ reply: Reply,
        with fault: FaultPlan.Fault,
        _ parameters: FaultPlan.Parameters
    ) -> Reply {
        let partial: [String]
        if reply.streamed {
            let chunks = reply.chunks
            partial = chunks.count > 1 ? Array(chunks.dropLast()) : chunks.map(Self.withoutFinishReason)
        } else {
            let body = reply.chunks.joined()
            partial = [String(body.prefix(body.count / 2))]
        }
        let garbageLine = "data: \(Self.garbage)\r\n\r\n"
        var spoiled = reply
        switch fault {
        case .rateLimited:
            return Self.rateLimited(retryDelay: parameters.retryDelay)
        case .unavailable:
            return Self.scriptedError(503)
        case .internalError:
            return Self.scriptedError(500)
        case .resetBeforeHead:
            spoiled.resetsBeforeHead = true
        case .slowHead:
            spoiled.headDelay = parameters.slowHead
        case .stall:
            spoiled.chunks = partial
            spoiled.ending = .reset(after: parameters.stallLimit)
        case .resetMidStream:
            spoiled.chunks = partial
            spoiled.ending = .reset(after: .zero)
        case .truncated:
            spoiled.chunks = partial
        case .garbage:
            spoiled.chunks = reply.streamed ? [partial[0], garbageLine] : [Self.garbage]
        case .garbageFirst:
            spoiled.chunks = reply.streamed ? [garbageLine] : [Self.garbage]
        }
        return spoiled
    }

    /// What a cut buffer behind a broken proxy might pass on: the start of a chunk, then an error page.
    private static let garbage = #"{"candidates":[{"content":{"role":"model","parts":[{"te<html>502 Bad Gateway</html>"#

    /// A single-chunk stream's chunk without its finish reason: a stream that breaks off cannot finish.
    private static func withoutFinishReason(_ chunk: String) -> String {
        let json = chunk.dropFirst("data: ".count).trimmingCharacters(in: .whitespacesAndNewlines)
        guard var response = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
            var candidates = response["candidates"] as? [[String: Any]], !candidates.isEmpty
        else { return chunk }
        candidates[0]["finishReason"] = nil
        response["candidates"] = candidates
        return "data: \(serialize(response))\r\n\r\n"
    }

    /// Gemini's quota error as the API sends it: the quota that ran out, then how long to wait.
    private static func rateLimited(retryDelay: Duration) -> Reply {
        let milliseconds = FaultPlan.wholeMilliseconds(retryDelay)
        // A protobuf Duration in JSON: seconds, with a fraction only when there is one.
        let delay =
            milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : String(format: "%.3fs", Double(milliseconds) / 1000)
        let violation: [String: Any] = [
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count",
            "quotaId": "GenerateContentPaidTierInputTokensPerModelPerMinute",
        ]
        return failure(
            429,
            "You exceeded your current quota, please check your plan and billing details. For more information "
                + "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
            details: [
                ["@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]],
                ["@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay],
            ]
        )
    }

    // MARK: - Signatures and ids

    /// Signatures handed out, forgetting the oldest past `capacity` so a long-running fake stays bounded.
    private struct IssuedSignatures {
        let capacity: Int
        private var ring: [String] = []
        private var oldest = 0
        private var members: Set<String> = []

        init(capacity: Int) {
            self.capacity = capacity
        }

        func contains(_ signature: String) -> Bool {
            self.members.contains(signature)
        }

        mutating func insert(_ signature: String) {
            if self.ring.count < self.capacity {
                self.ring.append(signature)
            } else {
                self.members.remove(self.ring[self.oldest])
                self.ring[self.oldest] = signature
                self.oldest = (self.oldest + 1) % self.capacity
            }
            self.members.insert(signature)
        }
    }

    /// Standard base64 of 40 random bytes, `==`-padded and always holding `+` and `/`, so a gateway that
    /// carries it through a base64url-only channel is caught unless it converts back exactly.
    private func issueSignature() -> String {
        var signature: String
        repeat {
            signature = Data((0..<40).map { _ in UInt8.random(in: .min ... .max) }).base64EncodedString()
        } while !(signature.contains("+") && signature.contains("/"))
        let issued = signature
        self.issuedSignatures.withLock { $0.insert(issued) }
        return issued
    }

    private static func randomID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<22).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    // MARK: - JSON

    private static func serialize(_ object: Any) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private static func parsedBody(_ body: ByteBuffer) -> Any {
        let data = Data(body.readableBytesView)
        guard !data.isEmpty else { return NSNull() }
        return (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) ?? String(decoding: data, as: UTF8.self)
    }
}

/// What the fault plans in use drew, plan by plan, for `/_fake/stats`.
private struct FaultLedger {
    /// The key of the plan given at start.
    static let defaultKey = "default"

    struct Run {
        let plan: FaultPlan
        var sampler: FaultPlan.Sampler
        var clean = 0
        var streamed: [FaultPlan.Fault: Int] = [:]
        var unary: [FaultPlan.Fault: Int] = [:]
        /// `reset_before_head` faults on a connection that had carried a request before: a client may
        /// resend those unseen (curl does, on a fresh connection), so no error of its own counts them.
        var resetsOnReusedConnections = 0

        init(plan: FaultPlan) {
            self.plan = plan
            self.sampler = plan.sampler()
        }

        mutating func draw(streamed: Bool, reusedConnection: Bool) -> FaultPlan.Fault? {
            guard let fault = self.sampler.next() else {
                self.clean += 1
                return nil
            }
            if streamed { self.streamed[fault, default: 0] += 1 } else { self.unary[fault, default: 0] += 1 }
            if fault == .resetBeforeHead, reusedConnection { self.resetsOnReusedConnections += 1 }
            return fault
        }

        var stats: [String: Any] {
            var stats = FaultLedger.stats(
                clean: self.clean,
                streamed: self.streamed,
                unary: self.unary,
                resets: self.resetsOnReusedConnections
            )
            stats["plan"] = self.plan.description
            return stats
        }
    }

    var runs: [String: Run] = [:]
    /// Generations answered outside any plan.
    var unplanned = 0

    /// The fault for the next generation under the plan `key` (nil: answer it whole), counted.
    mutating func draw(
        _ key: String,
        streamed: Bool,
        reusedConnection: Bool
    ) -> (FaultPlan.Fault, FaultPlan.Parameters)? {
        guard self.runs[key] != nil else {
            self.unplanned += 1
            return nil
        }
        guard let fault = self.runs[key]!.draw(streamed: streamed, reusedConnection: reusedConnection) else {
            return nil
        }
        return (fault, self.runs[key]!.plan.parameters)
    }

    /// The totals over every plan (clean answers outside a plan included), and each plan's own.
    var stats: [String: Any] {
        let runs = self.runs.values
        var stats = Self.stats(
            clean: runs.reduce(self.unplanned) { $0 + $1.clean },
            streamed: runs.reduce(into: [:]) { total, run in total.merge(run.streamed, uniquingKeysWith: +) },
            unary: runs.reduce(into: [:]) { total, run in total.merge(run.unary, uniquingKeysWith: +) },
            resets: runs.reduce(0) { $0 + $1.resetsOnReusedConnections }
        )
        stats["plans"] = self.runs.mapValues(\.stats)
        return stats
    }

    /// `faults` (every fault by name, zeros included), `streamed_faults` (those on streamed answers),
    /// `mid_stream_faults` (streamed answers broken after content: each one a gateway must end with an
    /// error event), `clean` answers and `resets_on_reused_connections`.
    private static func stats(
        clean: Int,
        streamed: [FaultPlan.Fault: Int],
        unary: [FaultPlan.Fault: Int],
        resets: Int
    ) -> [String: Any] {
        let names = FaultPlan.Fault.allCases
        func byName(_ count: (FaultPlan.Fault) -> Int) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: names.map { ($0.rawValue, count($0)) })
        }
        return [
            "clean": clean,
            "faults": byName { streamed[$0, default: 0] + unary[$0, default: 0] },
            "streamed_faults": byName { streamed[$0, default: 0] },
            "mid_stream_faults": names.filter(\.isMidStream).reduce(0) { $0 + streamed[$1, default: 0] },
            "resets_on_reused_connections": resets,
        ]
    }
}
