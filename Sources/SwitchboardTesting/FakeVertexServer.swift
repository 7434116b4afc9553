import Foundation
import NIOCore
import Synchronization

/// A fake of Vertex AI on one loopback port, with the Google endpoints its credentials need.
///
/// - Google's auth endpoints (``FakeGoogleAuthority``): the OAuth token endpoint, the metadata server,
///   STS and IAM credentials, which issue the access tokens the API accepts.
/// - `POST /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}`: Gemini,
///   answered by a ``FakeGeminiServer`` (its scripts, its strict validator, its thought signatures), with
///   Vertex's `countTokens` body and its 404 for a model not served in the location (Gemini 3 previews
///   outside `global`).
/// - `…/publishers/anthropic/models/{model}:rawPredict` / `:streamRawPredict` and
///   `…/models/count-tokens:rawPredict`: Claude, answered by a ``FakeAnthropicServer`` in Vertex's dialect
///   (`anthropic_version: vertex-2023-10-16`, no `model` in the body).
///
/// Every API request needs `Authorization: Bearer` with a token the authority issued and has not seen
/// expire, the project the fake was started for, and — when the fake is given one — the quota project in
/// `x-goog-user-project`. Errors are Google's `google.rpc.Status` bodies. `GET /_fake/requests` lists the
/// Gemini requests, `GET /_fake/last` the last Claude exchange, `GET /_fake/vertex` the API requests'
/// paths and the principals that made them.
public final class FakeVertexServer: Sendable {
    public let server: ScriptedHTTPServer
    public let authority: FakeGoogleAuthority
    public let gemini: FakeGeminiServer
    public let claude: FakeAnthropicServer
    private let project: String
    private let quotaProject: String?
    private let calls = Mutex<[[String: String]]>([])

    /// `http://127.0.0.1:PORT`: the `api_base` of a deployment, and the base of the auth endpoints.
    public var baseURL: String { self.server.baseURL }

    private init(server: ScriptedHTTPServer, authority: FakeGoogleAuthority, project: String, quotaProject: String?) {
        self.server = server
        self.authority = authority
        self.gemini = FakeGeminiServer(server: server, apiKey: "")
        self.claude = FakeAnthropicServer(server: server)
        self.project = project
        self.quotaProject = quotaProject
    }

    /// Starts the fake on 127.0.0.1 for `project`; when `quotaProject` is given, requests must name it in
    /// `x-goog-user-project`.
    public static func start(port: Int = 0, project: String, quotaProject: String? = nil) async throws -> FakeVertexServer {
        let box = Mutex<FakeVertexServer?>(nil)
        let server = try await ScriptedHTTPServer.start(port: port) { request, writer in
            guard let fake = box.withLock({ $0 }) else { return }
            try await fake.handle(request, writer: writer)
        }
        let authority = FakeGoogleAuthority(baseURL: server.baseURL)
        let fake = FakeVertexServer(server: server, authority: authority, project: project, quotaProject: quotaProject)
        box.withLock { $0 = fake }
        return fake
    }

    public func stop() async {
        await self.server.stop()
    }

    /// The API requests served so far: path and principal.
    public var apiCalls: [[String: String]] { self.calls.withLock { $0 } }

    private func handle(_ request: ScriptedHTTPServer.Request, writer: ScriptedHTTPServer.ResponseWriter) async throws {
        switch (request.method, request.path) {
        case ("GET", "/_fake/last"): return try await self.claude.inspect(writer: writer)
        case ("GET", "/_fake/vertex"): return try await Self.send(200, self.apiCalls, writer)
        case ("GET", _) where request.path.hasPrefix("/_fake/"): return try await self.gemini.handle(request, writer: writer)
        default: break
        }
        if try await self.authority.handle(request, writer: writer) { return }
        let path = request.path.removingPercentEncoding ?? request.path
        guard request.method == "POST", let resource = Resource(path: path) else {
            return try await Self.status(404, "NOT_FOUND", "The requested URL \(request.path) was not found on this server.", writer)
        }
        let bearer = request.header("authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let bearer, let principal = self.authority.principal(ofBearer: bearer) else {
            return try await Self.status(
                401, "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
                    + "valid authentication credential.",
                writer
            )
        }
        self.calls.withLock { $0.append(["path": request.path, "principal": principal]) }
        let userProject = request.header("x-goog-user-project")
        if let quota = self.quotaProject, userProject != quota {
            return try await Self.status(
                403, "PERMISSION_DENIED",
                "Caller does not have required permission to use project \(quota). Grant the caller the "
                    + "roles/serviceusage.serviceUsageConsumer role, or send x-goog-user-project: \(quota).",
                writer
            )
        }
        guard resource.project == self.project else {
            return try await Self.status(
                403, "PERMISSION_DENIED",
                "Permission 'aiplatform.endpoints.predict' denied on resource "
                    + "'//aiplatform.googleapis.com/\(resource.name)' (or it may not exist).",
                writer
            )
        }
        switch resource.publisher {
        case "google":
            guard let route = FakeGeminiServer.Route(model: "\(resource.model):\(resource.method)", after: "") else {
                return try await Self.status(400, "INVALID_ARGUMENT", "Unknown method \(resource.method).", writer)
            }
            try await self.gemini.respondOnVertex(
                to: request, route: route, resource: resource.name, location: resource.location, writer: writer
            )
        case "anthropic":
            try await self.respondAsClaude(request, resource: resource, writer: writer)
        default:
            try await Self.status(404, "NOT_FOUND", "Publisher Model `\(resource.name)` was not found.", writer)
        }
    }

    private func respondAsClaude(
        _ request: ScriptedHTTPServer.Request,
        resource: Resource,
        writer: ScriptedHTTPServer.ResponseWriter
    ) async throws {
        let dialect: FakeAnthropicServer.Dialect
        switch (resource.model, resource.method) {
        case ("count-tokens", "rawPredict"):
            dialect = .vertex(model: nil, streaming: false, countingTokens: true)
        case (let model, "rawPredict") where model.hasPrefix("claude"):
            dialect = .vertex(model: model, streaming: false, countingTokens: false)
        case (let model, "streamRawPredict") where model.hasPrefix("claude"):
            dialect = .vertex(model: model, streaming: true, countingTokens: false)
        default:
            return try await Self.status(
                404, "NOT_FOUND",
                "Publisher Model `\(resource.name)` was not found or your project does not have access to it.",
                writer
            )
        }
        try await self.claude.respond(to: request, dialect: dialect, writer: writer)
    }

    /// `/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`.
    private struct Resource {
        let project: String
        let location: String
        let publisher: String
        let model: String
        let method: String

        /// `projects/…/models/{model}`, as Vertex names it in messages.
        var name: String { "projects/\(self.project)/locations/\(self.location)/publishers/\(self.publisher)/models/\(self.model)" }

        init?(path: String) {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 10, parts[0].isEmpty, parts[1] == "v1" || parts[1] == "v1beta1",
                parts[2] == "projects", parts[4] == "locations", parts[6] == "publishers", parts[8] == "models",
                let colon = parts[9].lastIndex(of: ":")
            else { return nil }
            self.project = parts[3]
            self.location = parts[5]
            self.publisher = parts[7]
            self.model = String(parts[9][..<colon])
            self.method = String(parts[9][parts[9].index(after: colon)...])
            guard ![self.project, self.location, self.model, self.method].contains(where: \.isEmpty) else { return nil }
        }
    }

    /// A `google.rpc.Status` error, as Vertex answers.
    private static func status(_ code: Int, _ status: String, _ message: String, _ writer: ScriptedHTTPServer.ResponseWriter) async throws {
        try await Self.send(code, ["error": ["code": code, "message": message, "status": status]], writer)
    }

    private static func send(_ code: Int, _ object: Any, _ writer: ScriptedHTTPServer.ResponseWriter) async throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        try await writer.respond(
            status: code, headers: [("content-type", "application/json; charset=UTF-8")], body: String(decoding: data, as: UTF8.self)
        )
    }
}
