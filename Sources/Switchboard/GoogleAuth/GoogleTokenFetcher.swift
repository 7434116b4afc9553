import Foundation
import NIOCore
import Upstream

/// Performs the grants that produce one access token for a credential: the refresh-token or JWT-bearer grant,
/// the metadata server, STS token exchange, and IAM Credentials' `generateAccessToken` for impersonation.
struct GoogleTokenFetcher: Sendable {
    /// A token and how long its issuer said it lasts.
    struct Grant: Sendable {
        var accessToken: String
        var lifetime: Duration
    }

    let upstream: UpstreamClient
    /// Where authorized users' refresh tokens go: Google's token endpoint, or a test's fake.
    var authorizedUserTokenURL = GoogleCredentials.defaultTokenURI
    /// The longest one HTTP exchange with a token endpoint may take; callers wait at most this per hop.
    var timeout: Duration = .seconds(30)
    static let responseLimit = 1 << 20

    /// The host the final hop of `kind`'s grant goes to, for the span's `server.address`.
    func serverAddress(of kind: GoogleCredentials.Kind) -> String? {
        switch kind {
        case .authorizedUser: Self.host(of: self.authorizedUserTokenURL)
        case .serviceAccount(let account): Self.host(of: account.tokenURI)
        case .impersonated(let impersonated): Self.host(of: impersonated.impersonationURL)
        case .externalAccount(let external): Self.host(of: external.impersonationURL ?? external.tokenURL)
        case .metadataServer(let host): host
        }
    }

    func fetch(_ kind: GoogleCredentials.Kind) async throws(GoogleAuthFailure) -> Grant {
        switch kind {
        case .authorizedUser(let user):
            return try await self.postForm(
                to: self.authorizedUserTokenURL,
                fields: [
                    ("grant_type", "refresh_token"), ("client_id", user.clientID),
                    ("client_secret", user.clientSecret), ("refresh_token", user.refreshToken),
                ],
                secrets: [user.clientSecret, user.refreshToken]
            )
        case .serviceAccount(let account):
            let assertion: String
            do {
                assertion = try ServiceAccountAssertion.make(
                    for: account,
                    scope: GoogleCredentials.cloudPlatformScope,
                    issuedAt: Int(Date().timeIntervalSince1970)
                )
            } catch {
                throw GoogleAuthFailure(errorType: "invalid_key", detail: "the private key cannot sign (\(error))")
            }
            return try await self.postForm(
                to: account.tokenURI,
                fields: [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)],
                secrets: [assertion]
            )
        case .metadataServer(let host):
            let url = "http://\(host)/computeMetadata/v1/instance/service-accounts/default/token"
            let (status, body) = try await self.send(
                UpstreamRequest(method: "GET", url: url, headers: ["metadata-flavor": "Google"]),
                secrets: []
            )
            return try Self.oauthGrant(status: status, body: body, secrets: [])
        case .impersonated(let impersonated):
            let source = try await self.fetch(impersonated.source)
            return try await self.impersonate(
                url: impersonated.impersonationURL,
                delegates: impersonated.delegates,
                lifetimeSeconds: 3600,
                sourceToken: source.accessToken
            )
        case .externalAccount(let external):
            let federated = try await self.exchange(external)
            guard let url = external.impersonationURL else { return federated }
            return try await self.impersonate(
                url: url,
                delegates: [],
                lifetimeSeconds: external.impersonationLifetimeSeconds,
                sourceToken: federated.accessToken
            )
        }
    }

    /// The metadata server's project id (`computeMetadata/v1/project/project-id`, plain text).
    func metadataProjectID(host: String) async throws(GoogleAuthFailure) -> String {
        let url = "http://\(host)/computeMetadata/v1/project/project-id"
        let (status, body) = try await self.send(
            UpstreamRequest(method: "GET", url: url, headers: ["metadata-flavor": "Google"]),
            secrets: []
        )
        let project = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard status == 200, !project.isEmpty else {
            throw GoogleAuthFailure(errorType: "http_\(status)", detail: "the metadata server answered \(status)")
        }
        return project
    }

    // MARK: - Workload identity federation

    /// STS token exchange (RFC 8693) of the subject token for a federated access token.
    private func exchange(_ external: GoogleCredentials.ExternalAccount) async throws(GoogleAuthFailure) -> Grant {
        let subjectToken = try await self.subjectToken(external.subjectToken)
        var fields = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("audience", external.audience),
            ("scope", GoogleCredentials.cloudPlatformScope),
            ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
            ("subject_token_type", external.subjectTokenType),
            ("subject_token", subjectToken),
        ]
        // Workforce pools bill the user project, unless a service account is impersonated (google-auth).
        if let project = external.workforcePoolUserProject, external.impersonationURL == nil {
            var options = JSONWriter()
            options.object { $0.field("userProject", project) }
            fields.append(("options", options.text))
        }
        return try await self.postForm(to: external.tokenURL, fields: fields, secrets: [subjectToken])
    }

    private func subjectToken(_ source: GoogleCredentials.SubjectTokenSource) async throws(GoogleAuthFailure) -> String
    {
        switch source {
        case .file(let path, let format):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw GoogleAuthFailure(
                    errorType: "subject_token",
                    detail: "the subject token file \(path) cannot be read"
                )
            }
            return try Self.subjectToken(in: String(decoding: data, as: UTF8.self), format: format, from: path)
        case .url(let url, let headers, let format):
            let request = UpstreamRequest(
                method: "GET",
                url: url,
                headers: UpstreamHeaders(headers.map { .init(name: $0.name, value: $0.value) })
            )
            let (status, body) = try await self.send(request, secrets: [])
            guard status == 200 else {
                throw GoogleAuthFailure(
                    errorType: "subject_token",
                    detail: "the subject token URL \(Self.host(of: url) ?? url) answered \(status)"
                )
            }
            return try Self.subjectToken(in: body, format: format, from: Self.host(of: url) ?? url)
        }
    }

    private static func subjectToken(
        in text: String,
        format: GoogleCredentials.SubjectTokenFormat,
        from origin: String
    ) throws(GoogleAuthFailure) -> String {
        let token: String?
        switch format {
        case .text:
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        case .json(let field):
            token = (try? JSONValue.parse(text))?[field]?.stringValue
        }
        guard let token, !token.isEmpty else {
            let what = if case .json(let field) = format { "no string field \"\(field)\"" } else { "no token" }
            throw GoogleAuthFailure(errorType: "subject_token", detail: "the subject token from \(origin) has \(what)")
        }
        return token
    }

    // MARK: - Impersonation

    /// IAM Credentials `generateAccessToken` with the source's token as the bearer.
    private func impersonate(
        url: String,
        delegates: [String],
        lifetimeSeconds: Int,
        sourceToken: String
    ) async throws(GoogleAuthFailure) -> Grant {
        var body = JSONWriter()
        body.object { writer in
            writer.key("delegates")
            writer.array { array in for delegate in delegates { array.string(delegate) } }
            writer.key("scope")
            writer.array { $0.string(GoogleCredentials.cloudPlatformScope) }
            writer.field("lifetime", "\(lifetimeSeconds)s")
        }
        let request = UpstreamRequest(
            method: "POST",
            url: url,
            headers: ["content-type": "application/json", "authorization": "Bearer \(sourceToken)"],
            body: ByteBuffer(bytes: body.bytes)
        )
        let (status, text) = try await self.send(request, secrets: [sourceToken])
        guard status == 200 else {
            throw GoogleAuthFailure(
                errorType: "http_\(status)",
                detail: "generateAccessToken answered \(status)\(Self.googleErrorSummary(text, secrets: [sourceToken]))"
            )
        }
        guard let json = try? JSONValue.parse(text), let token = json["accessToken"]?.stringValue, !token.isEmpty,
            let expireTime = json["expireTime"]?.stringValue, let expiry = Self.parseRFC3339(expireTime)
        else {
            throw GoogleAuthFailure(
                errorType: "malformed_response",
                detail: "generateAccessToken's answer lacks accessToken or expireTime"
            )
        }
        let seconds = max(0, expiry.timeIntervalSinceNow)
        return Grant(accessToken: token, lifetime: .milliseconds(Int64(seconds * 1000)))
    }

    // MARK: - HTTP

    private func postForm(
        to url: String,
        fields: [(String, String)],
        secrets: [String]
    ) async throws(GoogleAuthFailure) -> Grant {
        let request = UpstreamRequest(
            method: "POST",
            url: url,
            headers: ["content-type": "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: FormEncoding.encode(fields))
        )
        let (status, body) = try await self.send(request, secrets: secrets)
        return try Self.oauthGrant(status: status, body: body, secrets: secrets)
    }

    private func send(_ request: UpstreamRequest, secrets: [String]) async throws(GoogleAuthFailure) -> (Int, String) {
        var request = request
        request.timeout = self.timeout
        let host = Self.host(of: request.url) ?? request.url
        do {
            let response = try await self.upstream.execute(request)
            let body = try await response.collectBody(upTo: Self.responseLimit)
            return (response.status, String(buffer: body))
        } catch let error as UpstreamError {
            throw GoogleAuthFailure(
                errorType: error.kind.description,
                detail: "\(host) could not be reached (\(error.kind)): \(Redaction.redact(error.message, secrets))"
            )
        } catch {
            throw GoogleAuthFailure(errorType: "other", detail: "\(host) could not be reached: \(error)")
        }
    }

    /// An OAuth 2.0 token response: `access_token` and `expires_in` (a number, or a string from some servers),
    /// or `{"error": …, "error_description": …}`.
    static func oauthGrant(status: Int, body: String, secrets: [String]) throws(GoogleAuthFailure) -> Grant {
        let json = try? JSONValue.parse(body)
        guard status == 200 else {
            var detail = "the token endpoint answered \(status)"
            if let code = json?["error"]?.stringValue {
                detail += " \(Redaction.redact(code, secrets))"
                if let description = json?["error_description"]?.stringValue {
                    detail += ": \(Redaction.redact(description, secrets))"
                }
            } else {
                detail += Self.googleErrorSummary(body, secrets: secrets)
            }
            throw GoogleAuthFailure(errorType: "http_\(status)", detail: detail)
        }
        guard let token = json?["access_token"]?.stringValue, !token.isEmpty else {
            throw GoogleAuthFailure(
                errorType: "malformed_response",
                detail: "the token endpoint's answer has no access_token"
            )
        }
        let seconds: Double? =
            switch json?["expires_in"] {
            case .number(let value): value
            case .string(let text): Double(text.trimmingCharacters(in: .whitespaces))
            default: nil
            }
        guard let seconds, seconds > 0 else {
            throw GoogleAuthFailure(
                errorType: "malformed_response",
                detail: "the token endpoint's answer has no expires_in"
            )
        }
        return Grant(accessToken: token, lifetime: .milliseconds(Int64(seconds * 1000)))
    }

    /// `: <message>` from a Google API error body (`{"error":{"message":…}}`), if it has one.
    private static func googleErrorSummary(_ body: String, secrets: [String]) -> String {
        guard let message = (try? JSONValue.parse(body))?["error"]?["message"]?.stringValue else { return "" }
        return ": " + Redaction.redact(message, secrets)
    }

    static func host(of url: String) -> String? {
        guard let components = URLComponents(string: url), let host = components.host else { return nil }
        return components.port.map { "\(host):\($0)" } ?? host
    }

    static func parseRFC3339(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
