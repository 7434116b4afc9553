extension GoogleCredentials {
    /// Each credential type's fields, as google-auth reads them from the JSON file.
    indirect enum Kind: Sendable, Hashable {
        case authorizedUser(AuthorizedUser)
        case serviceAccount(ServiceAccount)
        case impersonated(Impersonated)
        case externalAccount(ExternalAccount)
        case metadataServer(host: String)

        var typeName: String {
            switch self {
            case .authorizedUser: "authorized_user"
            case .serviceAccount: "service_account"
            case .impersonated: "impersonated_service_account"
            case .externalAccount: "external_account"
            case .metadataServer: "gce_metadata"
            }
        }
    }

    /// Written by `gcloud auth application-default login`: exchanged with the refresh-token grant, always at
    /// Google's token endpoint whatever `token_uri` the file names (google-auth ignores it too, so that a
    /// planted file cannot send the refresh token elsewhere).
    struct AuthorizedUser: Sendable, Hashable {
        var clientID: String
        var clientSecret: String
        var refreshToken: String
    }

    /// A service account key: a JWT signed with `privateKey` (RS256), exchanged at `tokenURI`.
    struct ServiceAccount: Sendable, Hashable {
        var clientEmail: String
        /// The JWT header's `kid`; omitted when the file has none.
        var privateKeyID: String?
        /// PKCS#8 (or PKCS#1) PEM, checked to load when the file is read.
        var privateKeyPEM: String
        var tokenURI: String
    }

    /// `impersonated_service_account`: the source credential's token buys one for the target service
    /// account from IAM Credentials' `generateAccessToken`.
    struct Impersonated: Sendable, Hashable {
        var source: Kind
        var impersonationURL: String
        var delegates: [String]
    }

    /// `external_account` (workload identity federation): a subject token from a file or URL, exchanged at
    /// STS, then optionally for a service account's token.
    struct ExternalAccount: Sendable, Hashable {
        var audience: String
        var subjectTokenType: String
        var tokenURL: String
        var subjectToken: SubjectTokenSource
        var impersonationURL: String?
        /// `service_account_impersonation.token_lifetime_seconds`, default 3600.
        var impersonationLifetimeSeconds: Int
        /// Workforce pools bill this project when no service account is impersonated.
        var workforcePoolUserProject: String?
    }

    /// Where an external account's subject token comes from.
    enum SubjectTokenSource: Sendable, Hashable {
        case file(path: String, format: SubjectTokenFormat)
        /// `headers` sorted by name, so that equal files compare equal.
        case url(String, headers: [UpstreamHeaderPair], format: SubjectTokenFormat)
    }

    struct UpstreamHeaderPair: Sendable, Hashable {
        var name: String
        var value: String
    }

    /// `credential_source.format`: the whole body is the token, or one string field of a JSON body is.
    enum SubjectTokenFormat: Sendable, Hashable {
        case text
        case json(field: String)
    }
}
