import Foundation
import NIOCore
import Synchronization
import _CryptoExtras

/// Google's token issuers, faked as strictly as Google documents them: the OAuth 2.0 token endpoint
/// (refresh-token and JWT-bearer grants, the JWT's RS256 signature verified against the registered key), the
/// GCE metadata server, STS token exchange, and IAM Credentials' `generateAccessToken`.
///
/// Not a server itself: ``handle(_:writer:)`` answers the requests for its paths, so that a fake API (Vertex)
/// can host it on its own port and check bearers with ``principal(ofBearer:)``. ``FakeGoogleAuthServer``
/// hosts it alone. Set ``baseURL`` to where it is reachable before writing credential files: service account
/// keys name `{baseURL}/token` as their `token_uri`, and a JWT's `aud` must be Google's token endpoint (what
/// google-auth sends) or that URL. `authorized_user` files carry no `token_uri`, as gcloud writes them:
/// clients always send refresh tokens to Google's endpoint, so a test points its client at ``tokenURL``.
///
/// Endpoints:
/// - `POST /token`: `grant_type=refresh_token` (client_id, client_secret, refresh_token of a registered
///   user) or `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` (assertion).
/// - `GET /computeMetadata/v1/instance/service-accounts/default/token`, `…/default/` (`?recursive=true`: the
///   account's email and scopes, which google-auth reads first), `…/default/email` and
///   `GET /computeMetadata/v1/project/project-id`, with `Metadata-Flavor: Google` (403 without); `GET /`
///   answers as the server's root does, which is how google-auth's probe tells it is on Google Cloud.
/// - `POST /v1/token`: STS token exchange of a registered subject token for the registered audience.
/// - `POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken` with a bearer allowed to impersonate.
/// - `GET /idp/subject-token`: a registered subject token as JSON (`{"id_token": …}`), for URL-sourced
///   external accounts; it needs the header `Metadata: True`, as Azure's identity endpoint does.
public final class FakeGoogleAuthority: Sendable {
    /// Where a request for a token went.
    public enum Endpoint: String, Sendable, CaseIterable {
        case refreshToken = "refresh_token"
        case jwtBearer = "jwt_bearer"
        case metadata
        case tokenExchange = "token_exchange"
        case generateAccessToken = "generate_access_token"
        case subjectToken = "subject_token"
    }

    static let cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
    static let googleTokenURL = "https://oauth2.googleapis.com/token"

    struct AuthorizedUser: Sendable {
        var email: String
        var clientID: String
        var clientSecret: String
        var refreshToken: String
        var revoked = false
    }

    struct ServiceAccount: Sendable {
        var email: String
        var projectID: String
        var privateKeyID: String
        var publicKey: _RSA.Signing.PublicKey
        var disabled = false
        /// Principals allowed to mint its tokens (roles/iam.serviceAccountTokenCreator).
        var tokenCreators: Set<String> = []
    }

    struct WorkloadIdentityRecord: Sendable {
        var audience: String
        var subjectToken: String
        var subject: String
    }

    struct Issued: Sendable {
        var principal: String
        var expiresAt: Date
    }

    struct State: Sendable {
        var baseURL = ""
        var tokenLifetime: Duration = .seconds(3599)
        var delay: Duration = .zero
        var failureStatus: Int?
        var users: [AuthorizedUser] = []
        var serviceAccounts: [String: ServiceAccount] = [:]
        var identities: [WorkloadIdentityRecord] = []
        var metadataAccount: String?
        var metadataProject = "fake-metadata-project"
        var issued: [String: Issued] = [:]
        var requests: [Endpoint: Int] = [:]
    }

    let state = Mutex(State())

    public init(baseURL: String = "") {
        self.state.withLock { $0.baseURL = baseURL }
    }

    /// `http://127.0.0.1:PORT` of the server hosting the authority.
    public var baseURL: String {
        get { self.state.withLock { $0.baseURL } }
        set { self.state.withLock { $0.baseURL = newValue } }
    }

    /// The OAuth token endpoint: a JWT's `aud` and the `token_uri` of the files written here.
    public var tokenURL: String { self.baseURL + "/token" }

    /// How long issued tokens last (`expires_in`); 3599 s unless a test wants them short.
    public var tokenLifetime: Duration {
        get { self.state.withLock { $0.tokenLifetime } }
        set { self.state.withLock { $0.tokenLifetime = newValue } }
    }

    /// A pause before every token answer, so that concurrent callers overlap one refresh.
    public var delay: Duration {
        get { self.state.withLock { $0.delay } }
        set { self.state.withLock { $0.delay = newValue } }
    }

    /// When set, every token endpoint answers this status (with a Google-shaped error body) instead.
    public var failureStatus: Int? {
        get { self.state.withLock { $0.failureStatus } }
        set { self.state.withLock { $0.failureStatus = newValue } }
    }

    /// Requests received at `endpoint`, granted or not.
    public func requestCount(_ endpoint: Endpoint) -> Int {
        self.state.withLock { $0.requests[endpoint, default: 0] }
    }

    /// Who `token` was issued to; nil if this authority never issued it or it has expired.
    public func principal(ofBearer token: String) -> String? {
        self.state.withLock { state in
            guard let issued = state.issued[token], issued.expiresAt > Date() else { return nil }
            return issued.principal
        }
    }

    /// Answers `request` if its path is one of the authority's; false (nothing written) otherwise.
    public func handle(_ request: ScriptedHTTPServer.Request, writer: ScriptedHTTPServer.ResponseWriter) async throws
        -> Bool
    {
        let path = request.path
        let endpoint: Endpoint
        switch (request.method, path) {
        case ("POST", "/token"):
            let grant = FormFields(request.body)["grant_type"]
            endpoint = grant == "refresh_token" ? .refreshToken : .jwtBearer
        case ("GET", _) where path.hasPrefix("/computeMetadata/v1/") || path == "/":
            endpoint = .metadata
        case ("POST", "/v1/token"):
            endpoint = .tokenExchange
        case ("POST", _)
        where path.hasPrefix("/v1/projects/-/serviceAccounts/") && path.hasSuffix(":generateAccessToken"):
            endpoint = .generateAccessToken
        case ("GET", "/idp/subject-token"):
            endpoint = .subjectToken
        default:
            return false
        }
        let (delay, failure) = self.state.withLock { state in
            state.requests[endpoint, default: 0] += 1
            return (state.delay, state.failureStatus)
        }
        if delay > .zero, endpoint != .subjectToken { try await Task.sleep(for: delay) }
        let answer: Answer
        if let failure, endpoint != .subjectToken {
            answer = .googleError(failure, status: "INTERNAL", message: "the fake was told to fail")
        } else {
            switch endpoint {
            case .refreshToken: answer = self.refreshTokenGrant(FormFields(request.body))
            case .jwtBearer: answer = self.jwtBearerGrant(FormFields(request.body))
            case .metadata: answer = self.metadata(request)
            case .tokenExchange: answer = self.tokenExchange(request)
            case .generateAccessToken: answer = self.generateAccessToken(request)
            case .subjectToken: answer = self.subjectTokenDocument(request)
            }
        }
        var headers = [("content-type", answer.contentType)]
        // The real metadata server marks its answers; google-auth's probe looks for the header.
        if endpoint == .metadata { headers.append(("metadata-flavor", "Google")) }
        try await writer.respond(status: answer.status, headers: headers, body: answer.body)
        return true
    }
}
