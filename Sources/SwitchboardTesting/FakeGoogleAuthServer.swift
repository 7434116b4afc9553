import Synchronization

/// A ``FakeGoogleAuthority`` alone on a loopback port: token endpoint, metadata server, STS and IAM
/// Credentials on one `http://127.0.0.1:PORT`. Anything else answers 404.
public final class FakeGoogleAuthServer: Sendable {
    public let server: ScriptedHTTPServer
    public let authority: FakeGoogleAuthority

    private init(server: ScriptedHTTPServer, authority: FakeGoogleAuthority) {
        self.server = server
        self.authority = authority
    }

    public static func start(port: Int = 0) async throws -> FakeGoogleAuthServer {
        let authority = FakeGoogleAuthority()
        let server = try await ScriptedHTTPServer.start(port: port) { request, writer in
            if try await authority.handle(request, writer: writer) { return }
            try await writer.respond(status: 404, body: "not found: \(request.method) \(request.path)")
        }
        authority.baseURL = server.baseURL
        return FakeGoogleAuthServer(server: server, authority: authority)
    }

    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { self.server.baseURL }
    /// `127.0.0.1:PORT`, what `GCE_METADATA_HOST` takes.
    public var hostAndPort: String { "127.0.0.1:\(self.server.port)" }

    public func stop() async {
        await self.server.stop()
    }
}
