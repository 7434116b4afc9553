import Foundation
import NIOCore
import _CryptoExtras

extension FakeGoogleAuthority {
    /// One response, decided under no lock.
    struct Answer {
        var status: Int
        var contentType = "application/json; charset=utf-8"
        var body: String

        /// An OAuth 2.0 error as Google's token endpoints send it (RFC 6749 §5.2).
        static func oauthError(_ error: String, _ description: String, status: Int = 400) -> Answer {
            Answer(status: status, body: json(["error": error, "error_description": description]))
        }

        /// A Google API error (`{"error":{"code","message","status"}}`), as IAM Credentials sends it.
        static func googleError(_ code: Int, status: String, message: String) -> Answer {
            Answer(status: code, body: json(["error": ["code": code, "message": message, "status": status]]))
        }

        static func text(_ status: Int, _ body: String) -> Answer {
            Answer(status: status, contentType: "text/plain; charset=utf-8", body: body)
        }
    }

    // MARK: - POST /token

    func refreshTokenGrant(_ form: FormFields) -> Answer {
        guard let clientID = form["client_id"], let secret = form["client_secret"], let refresh = form["refresh_token"]
        else {
            return .oauthError(
                "invalid_request",
                "Missing required parameter: client_id, client_secret or refresh_token"
            )
        }
        return self.state.withLock { state in
            guard let user = state.users.first(where: { $0.clientID == clientID }) else {
                return .oauthError("invalid_client", "The OAuth client was not found.", status: 401)
            }
            guard user.clientSecret == secret else { return .oauthError("invalid_client", "Unauthorized", status: 401) }
            guard user.refreshToken == refresh, !user.revoked else {
                return .oauthError("invalid_grant", "Token has been expired or revoked.")
            }
            return Self.issue(to: user.email, state: &state)
        }
    }

    func jwtBearerGrant(_ form: FormFields) -> Answer {
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" else {
            return .oauthError("unsupported_grant_type", "Invalid grant_type: \(form["grant_type"] ?? "")")
        }
        guard let assertion = form["assertion"] else {
            return .oauthError("invalid_request", "Missing required parameter: assertion")
        }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerData = Self.base64URLDecode(parts[0]),
            let claimsData = Self.base64URLDecode(parts[1]), let signature = Self.base64URLDecode(parts[2]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
            let claims = try? JSONSerialization.jsonObject(with: claimsData) as? [String: Any]
        else {
            return .oauthError("invalid_grant", "Invalid JWT: malformed assertion.")
        }
        guard header["alg"] as? String == "RS256", header["typ"] as? String == "JWT" else {
            return .oauthError("invalid_grant", "Invalid JWT: header must be {\"alg\":\"RS256\",\"typ\":\"JWT\"}.")
        }
        guard let issuer = claims["iss"] as? String else {
            return .oauthError("invalid_grant", "Invalid JWT: missing iss.")
        }
        let now = Int(Date().timeIntervalSince1970)
        return self.state.withLock { state in
            guard let account = state.serviceAccounts[issuer] else {
                return .oauthError("invalid_grant", "Invalid grant: account not found")
            }
            guard header["kid"] as? String == account.privateKeyID else {
                return .oauthError("invalid_grant", "Invalid JWT Signature.")
            }
            let signingInput = Data((parts[0] + "." + parts[1]).utf8)
            guard
                account.publicKey.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature),
                    for: signingInput,
                    padding: .insecurePKCS1v1_5
                )
            else {
                return .oauthError("invalid_grant", "Invalid JWT Signature.")
            }
            guard !account.disabled else {
                return .oauthError("invalid_grant", "Invalid grant: account not found")
            }
            // google-auth always names Google's endpoint; other clients name the token URI they post to.
            guard let audience = claims["aud"] as? String,
                audience == Self.googleTokenURL || audience == state.baseURL + "/token"
            else {
                return .oauthError("invalid_grant", "Invalid JWT: aud must be \(Self.googleTokenURL).")
            }
            let scopes = (claims["scope"] as? String)?.split(separator: " ").map(String.init) ?? []
            guard scopes.contains(Self.cloudPlatformScope) else {
                return .oauthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
            }
            guard let issuedAt = (claims["iat"] as? NSNumber)?.intValue,
                let expiry = (claims["exp"] as? NSNumber)?.intValue,
                expiry > issuedAt, expiry - issuedAt <= 3600, issuedAt <= now + 60, expiry > now
            else {
                return .oauthError(
                    "invalid_grant",
                    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                        + "Check your iat and exp values in the JWT claim."
                )
            }
            return Self.issue(to: account.email, state: &state)
        }
    }

    // MARK: - Metadata server

    func metadata(_ request: ScriptedHTTPServer.Request) -> Answer {
        // The real server refuses requests without the header, and proxied ones (X-Forwarded-For).
        guard request.header("metadata-flavor") == "Google", request.header("x-forwarded-for") == nil else {
            return .text(403, "Missing required header \"Metadata-Flavor\": \"Google\"")
        }
        return self.state.withLock { state in
            let accountPath = "/computeMetadata/v1/instance/service-accounts/default/"
            switch request.path {
            case "/":
                return .text(200, "computeMetadata/\n")
            case "/computeMetadata/v1/project/project-id":
                return .text(200, state.metadataProject)
            case accountPath + "token", accountPath, accountPath + "email":
                guard let account = state.metadataAccount else {
                    return .text(404, "No service account is attached to this instance.")
                }
                if request.path.hasSuffix("/token") { return Self.issue(to: account, state: &state) }
                if request.path.hasSuffix("/email") { return .text(200, account) }
                return Answer(
                    status: 200,
                    body: Self.json(["aliases": ["default"], "email": account, "scopes": [Self.cloudPlatformScope]])
                )
            default:
                return .text(404, "Not found: \(request.path)")
            }
        }
    }

    // MARK: - STS

    func tokenExchange(_ request: ScriptedHTTPServer.Request) -> Answer {
        guard request.header("content-type")?.hasPrefix("application/x-www-form-urlencoded") == true else {
            return .oauthError("invalid_request", "Request must be application/x-www-form-urlencoded.")
        }
        let form = FormFields(request.body)
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange" else {
            return .oauthError("unsupported_grant_type", "Unsupported grant_type.")
        }
        guard form["requested_token_type"] == "urn:ietf:params:oauth:token-type:access_token" else {
            return .oauthError("invalid_request", "Invalid requested_token_type.")
        }
        guard let subjectTokenType = form["subject_token_type"], subjectTokenType.hasPrefix("urn:ietf:params:") else {
            return .oauthError("invalid_request", "Invalid subject_token_type.")
        }
        guard let scope = form["scope"], scope.split(separator: " ").contains(Substring(Self.cloudPlatformScope)) else {
            return .oauthError("invalid_scope", "The scope must include cloud-platform.")
        }
        return self.state.withLock { state in
            guard let identity = state.identities.first(where: { $0.audience == form["audience"] }) else {
                return .oauthError("invalid_target", "The target service indicated by the \"audience\" is invalid.")
            }
            guard identity.subjectToken == form["subject_token"] else {
                return .oauthError("invalid_grant", "The subject token is invalid or expired.")
            }
            let (token, expiresIn) = Self.grant(
                to: "principal://iam.googleapis.com/subject/\(identity.subject)",
                lifetime: state.tokenLifetime,
                state: &state
            )
            return Answer(
                status: 200,
                body: Self.json([
                    "access_token": token, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    "token_type": "Bearer", "expires_in": expiresIn,
                ])
            )
        }
    }

    // MARK: - IAM Credentials

    func generateAccessToken(_ request: ScriptedHTTPServer.Request) -> Answer {
        let path = request.path
        let email = String(
            path.dropFirst("/v1/projects/-/serviceAccounts/".count).dropLast(":generateAccessToken".count)
        )
        guard let authorization = request.header("authorization"), authorization.hasPrefix("Bearer ") else {
            return .googleError(
                401,
                status: "UNAUTHENTICATED",
                message: "Request is missing required authentication credential."
            )
        }
        let bearer = String(authorization.dropFirst("Bearer ".count))
        guard
            let body = try? JSONSerialization.jsonObject(with: Data(request.body.readableBytesView)) as? [String: Any],
            let scopes = body["scope"] as? [String], !scopes.isEmpty
        else {
            return .googleError(400, status: "INVALID_ARGUMENT", message: "Scope is required.")
        }
        var lifetimeSeconds = 3600
        if let lifetime = body["lifetime"] as? String {
            guard lifetime.hasSuffix("s"), let seconds = Int(lifetime.dropLast()), seconds > 0, seconds <= 43200 else {
                return .googleError(400, status: "INVALID_ARGUMENT", message: "Invalid lifetime: \(lifetime)")
            }
            lifetimeSeconds = seconds
        }
        return self.state.withLock { state in
            guard let caller = state.issued[bearer], caller.expiresAt > Date() else {
                return .googleError(
                    401,
                    status: "UNAUTHENTICATED",
                    message: "Request had invalid authentication credentials."
                )
            }
            guard let target = state.serviceAccounts[email], target.tokenCreators.contains(caller.principal) else {
                return .googleError(
                    403,
                    status: "PERMISSION_DENIED",
                    message: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."
                )
            }
            let lifetime = min(state.tokenLifetime, .seconds(lifetimeSeconds))
            let (token, _) = Self.grant(to: target.email, lifetime: lifetime, state: &state)
            let expiresAt = state.issued[token]!.expiresAt
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return Answer(
                status: 200,
                body: Self.json(["accessToken": token, "expireTime": formatter.string(from: expiresAt)])
            )
        }
    }

    // MARK: - A fake identity provider for URL-sourced subject tokens

    func subjectTokenDocument(_ request: ScriptedHTTPServer.Request) -> Answer {
        guard request.header("metadata") == "True" else {
            return .text(400, "Required metadata header not specified")
        }
        return self.state.withLock { state in
            guard let identity = state.identities.last else { return .text(404, "no identity registered") }
            return Answer(status: 200, body: Self.json(["id_token": identity.subjectToken, "token_type": "Bearer"]))
        }
    }

    // MARK: - Helpers

    /// A new bearer for `principal` in the OAuth token response shape, lasting the configured lifetime.
    static func issue(to principal: String, state: inout State) -> Answer {
        let (token, expiresIn) = Self.grant(to: principal, lifetime: state.tokenLifetime, state: &state)
        return Answer(
            status: 200,
            body: Self.json(["access_token": token, "expires_in": expiresIn, "token_type": "Bearer"])
        )
    }

    /// Records a new bearer for `principal`; returns it with its `expires_in` in whole seconds.
    static func grant(to principal: String, lifetime: Duration, state: inout State) -> (String, Int) {
        let token = Self.newToken()
        let seconds = Double(lifetime.components.seconds) + Double(lifetime.components.attoseconds) / 1e18
        state.issued[token] = Issued(principal: principal, expiresAt: Date().addingTimeInterval(seconds))
        return (token, Int(seconds.rounded(.up)))
    }

    static func newToken() -> String {
        "ya29.fake-" + (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 36) }.joined()
    }

    static func json(_ object: [String: Any]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func base64URLDecode(_ text: String) -> Data? {
        guard !text.contains("="), !text.contains("+"), !text.contains("/") else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// The fields of an `application/x-www-form-urlencoded` body (`+` is a space, `%XX` a byte).
struct FormFields {
    private var fields: [(String, String)] = []

    init(_ body: ByteBuffer) {
        let text = String(buffer: body)
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) in
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
            }
            self.fields.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
    }

    subscript(name: String) -> String? {
        self.fields.first { $0.0 == name }?.1
    }
}
