import Foundation
import HTTPTypes
import Hummingbird

/// Requires a key on every route but the health checks and Claude Code's key-less connection probe, as
/// `x-api-key` or `Authorization: Bearer` (Claude Code sends the latter from `ANTHROPIC_AUTH_TOKEN`): the
/// master key, or, where the gateway keeps virtual keys, one of those, whose identity goes on the exchange.
/// Administration (`/key/…`, `/team/…`, `/spend/…`, `/global/…`) takes the master key, but for a virtual key
/// reading its own `/key/info`. Every request on a model, master key included, must fit the gateway's budget.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let masterKey: [UInt8]
    /// Whether `/metrics` needs the key too (Prometheus then sends it as a bearer token).
    let protectsMetrics: Bool
    let directory: KeyDirectory?

    init(masterKey: String, protectsMetrics: Bool = false, directory: KeyDirectory? = nil) {
        self.masterKey = Array(masterKey.utf8)
        self.protectsMetrics = protectsMetrics
        self.directory = directory
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if path == "/health" || path.hasPrefix("/health/") || path == "/api/hello" || (path == "/metrics" && !self.protectsMetrics) {
            return try await next(request, context)
        }
        guard let presented = Self.presentedKey(request) else {
            context.exchange.update { $0.keyRefusal = .authentication(reason: "missing") }
            throw AnthropicError.authentication("missing API key: send it as x-api-key or Authorization: Bearer")
        }
        if Self.constantTimeEquals(Array(presented.utf8), self.masterKey) {
            if let directory = self.directory, !Self.isAdministrative(path) {
                do {
                    try directory.checkGatewayBudget()
                } catch {
                    context.exchange.update { $0.keyRefusal = error.kind }
                    throw error.error
                }
            }
            return try await next(request, context)
        }
        guard let directory = self.directory else {
            context.exchange.update { $0.keyRefusal = .authentication(reason: "invalid") }
            throw AnthropicError.authentication("invalid API key")
        }
        do {
            return try await self.admitted(request, context: context, next: next, directory: directory, presented: presented)
        } catch let refusal as KeyRefusal {
            context.exchange.update { $0.keyRefusal = refusal.kind }
            throw refusal.error
        }
    }

    private func admitted(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response,
        directory: KeyDirectory,
        presented: String
    ) async throws -> Response {
        let path = request.uri.path
        let identity = try directory.authenticate(presented)
        if Self.isAdministrative(path) {
            let asked = request.uri.queryParameters.get("key").map { directory.key($0)?.tokenHash }
            guard path == "/key/info", asked == nil || asked == identity.tokenHash else {
                throw AnthropicError(status: 403, type: "permission_error", message: "\(path) takes the master key")
            }
            // Its own record only; not counted against its limits, and no spend-log row.
            var context = context
            context.caller = identity
            return try await next(request, context)
        }
        // Token limits shared by several replicas reserve the request's input before it runs: about one token
        // per four bytes of body, settled to the real count when the answer is in.
        let estimatedTokens = (request.headers[.contentLength].flatMap(Int.init) ?? 0) / 4
        let admitted = try await directory.admit(identity, estimatedTokens: estimatedTokens)
        // From here the request holds a slot, which the directory frees when the exchange finishes.
        context.exchange.update { $0.virtualKey = admitted }
        return try await next(request, context)
    }

    /// Routes for the master key: keys, teams and the spend log and report.
    private static func isAdministrative(_ path: String) -> Bool {
        ["/key/", "/team/", "/spend/", "/global/"].contains(where: path.hasPrefix)
    }

    private static func presentedKey(_ request: Request) -> String? {
        if let key = request.headers[HTTPField.Name("x-api-key")!], !key.isEmpty { return key }
        guard let authorization = request.headers[.authorization] else { return nil }
        let prefix = "bearer "
        guard authorization.count > prefix.count, authorization.lowercased().hasPrefix(prefix) else { return nil }
        return authorization.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
    }

    /// Compares without returning early, so the time taken does not reveal how much of a key matched.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = lhs.count ^ rhs.count
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= Int(left ^ right)
        }
        return difference == 0
    }
}
