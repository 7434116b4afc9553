/// Reads one credential JSON file into ``GoogleCredentials``, checking the keys google-auth requires for its
/// `type` and naming the file and the missing key when one is absent.
struct CredentialFileReader {
    let json: JSONValue
    let source: GoogleCredentialSource

    func credentials() throws -> GoogleCredentials {
        let quotaProject = self.json["quota_project_id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let type = try self.string("type", in: self.json)
        switch type {
        case "authorized_user":
            return GoogleCredentials(
                source: self.source,
                kind: .authorizedUser(try self.authorizedUser(self.json)),
                quotaProjectID: quotaProject,
                account: self.json["account"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            )
        case "service_account":
            let account = try self.serviceAccount(self.json)
            return GoogleCredentials(
                source: self.source,
                kind: .serviceAccount(account),
                projectID: self.json["project_id"]?.stringValue,
                quotaProjectID: quotaProject,
                account: account.clientEmail
            )
        case "impersonated_service_account":
            let impersonated = try self.impersonated(self.json)
            return GoogleCredentials(
                source: self.source,
                kind: .impersonated(impersonated),
                quotaProjectID: quotaProject,
                account: Self.targetPrincipal(impersonated.impersonationURL)
            )
        case "external_account":
            let external = try self.externalAccount(self.json)
            return GoogleCredentials(
                source: self.source,
                kind: .externalAccount(external),
                quotaProjectID: quotaProject,
                account: external.impersonationURL.flatMap(Self.targetPrincipal)
            )
        default:
            throw GoogleCredentialsError.unsupported(self.source, type: type)
        }
    }

    private func authorizedUser(_ json: JSONValue) throws -> GoogleCredentials.AuthorizedUser {
        GoogleCredentials.AuthorizedUser(
            clientID: try self.string("client_id", in: json),
            clientSecret: try self.string("client_secret", in: json),
            refreshToken: try self.string("refresh_token", in: json)
        )
    }

    private func serviceAccount(_ json: JSONValue) throws -> GoogleCredentials.ServiceAccount {
        let account = GoogleCredentials.ServiceAccount(
            clientEmail: try self.string("client_email", in: json),
            privateKeyID: json["private_key_id"]?.stringValue,
            privateKeyPEM: try self.string("private_key", in: json),
            tokenURI: try self.string("token_uri", in: json)
        )
        do {
            _ = try ServiceAccountAssertion.privateKey(pem: account.privateKeyPEM)
        } catch {
            throw GoogleCredentialsError.malformed(self.source, "private_key is not an RSA private key in PEM form")
        }
        return account
    }

    private func impersonated(_ json: JSONValue) throws -> GoogleCredentials.Impersonated {
        let url = try self.string("service_account_impersonation_url", in: json)
        guard let sourceJSON = json["source_credentials"], case .object = sourceJSON else {
            throw GoogleCredentialsError.malformed(self.source, "missing the object \"source_credentials\"")
        }
        let sourceType = try self.string("type", in: sourceJSON)
        let source: GoogleCredentials.Kind
        switch sourceType {
        case "authorized_user": source = .authorizedUser(try self.authorizedUser(sourceJSON))
        case "service_account": source = .serviceAccount(try self.serviceAccount(sourceJSON))
        default:
            throw GoogleCredentialsError.unsupported(
                self.source,
                type: sourceType,
                "as source_credentials of impersonated_service_account; use authorized_user or service_account"
            )
        }
        let delegates: [String]
        if case .array(let items) = json["delegates"] ?? .array([]) {
            delegates = items.compactMap(\.stringValue)
        } else {
            delegates = []
        }
        return GoogleCredentials.Impersonated(source: source, impersonationURL: url, delegates: delegates)
    }

    private func externalAccount(_ json: JSONValue) throws -> GoogleCredentials.ExternalAccount {
        let audience = try self.string("audience", in: json)
        let subjectTokenType = try self.string("subject_token_type", in: json)
        let tokenURL = try self.string("token_url", in: json)
        guard let credentialSource = json["credential_source"], case .object(let fields) = credentialSource else {
            throw GoogleCredentialsError.malformed(self.source, "missing the object \"credential_source\"")
        }
        if let environment = credentialSource["environment_id"]?.stringValue, environment.hasPrefix("aws") {
            throw GoogleCredentialsError.unsupported(
                self.source,
                type: "external_account",
                "AWS-sourced credentials; use a file- or URL-sourced subject token"
            )
        }
        if fields["executable"] != nil {
            throw GoogleCredentialsError.unsupported(
                self.source,
                type: "external_account",
                "executable-sourced credentials; use a file or URL source"
            )
        }
        let format = try self.subjectTokenFormat(credentialSource["format"])
        let subjectToken: GoogleCredentials.SubjectTokenSource
        if let file = credentialSource["file"]?.stringValue {
            subjectToken = .file(path: file, format: format)
        } else if let url = credentialSource["url"]?.stringValue {
            var headers: [GoogleCredentials.UpstreamHeaderPair] = []
            if case .object(let given) = credentialSource["headers"] ?? .null {
                for (name, value) in given {
                    guard let value = value.stringValue else {
                        throw GoogleCredentialsError.malformed(
                            self.source,
                            "credential_source.headers.\(name) is not a string"
                        )
                    }
                    headers.append(.init(name: name, value: value))
                }
            }
            subjectToken = .url(url, headers: headers.sorted { $0.name < $1.name }, format: format)
        } else {
            throw GoogleCredentialsError.malformed(self.source, "credential_source has neither \"file\" nor \"url\"")
        }
        var lifetime = 3600
        if case .number(let seconds) = json["service_account_impersonation"]?["token_lifetime_seconds"] ?? .null {
            guard seconds >= 600, seconds <= 43200 else {
                throw GoogleCredentialsError.malformed(
                    self.source,
                    "service_account_impersonation.token_lifetime_seconds must be 600 to 43200"
                )
            }
            lifetime = Int(seconds)
        }
        return GoogleCredentials.ExternalAccount(
            audience: audience,
            subjectTokenType: subjectTokenType,
            tokenURL: tokenURL,
            subjectToken: subjectToken,
            impersonationURL: json["service_account_impersonation_url"]?.stringValue,
            impersonationLifetimeSeconds: lifetime,
            workforcePoolUserProject: json["workforce_pool_user_project"]?.stringValue
        )
    }

    private func subjectTokenFormat(_ json: JSONValue?) throws -> GoogleCredentials.SubjectTokenFormat {
        guard let json, case .object = json else { return .text }
        switch json["type"]?.stringValue ?? "text" {
        case "text": return .text
        case "json":
            guard let field = json["subject_token_field_name"]?.stringValue, !field.isEmpty else {
                throw GoogleCredentialsError.malformed(
                    self.source,
                    "credential_source.format of type json needs \"subject_token_field_name\""
                )
            }
            return .json(field: field)
        case let other:
            throw GoogleCredentialsError.malformed(
                self.source,
                "credential_source.format.type \"\(other)\" is neither \"text\" nor \"json\""
            )
        }
    }

    /// The string at `key`; a credential without it cannot be used.
    private func string(_ key: String, in json: JSONValue) throws -> String {
        guard let value = json[key]?.stringValue, !value.isEmpty else {
            let type = json["type"]?.stringValue.map { " (type \($0))" } ?? ""
            throw GoogleCredentialsError.malformed(self.source, "missing the required key \"\(key)\"\(type)")
        }
        return value
    }

    /// The service account an IAM Credentials URL names:
    /// `…/projects/-/serviceAccounts/{email}:generateAccessToken`.
    static func targetPrincipal(_ url: String) -> String? {
        guard let range = url.range(of: "/serviceAccounts/") else { return nil }
        let rest = url[range.upperBound...]
        let email = rest.prefix { $0 != ":" && $0 != "/" }
        return email.isEmpty ? nil : String(email)
    }
}
