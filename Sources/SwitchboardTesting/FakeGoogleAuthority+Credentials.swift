import Foundation
import Synchronization
import _CryptoExtras

extension FakeGoogleAuthority {
    /// A user registered with the authority, as `gcloud auth application-default login` would leave it.
    public struct UserCredential: Sendable {
        public let email: String
        public let clientID: String
        public let clientSecret: String
        public let refreshToken: String
        /// The `authorized_user` file, as gcloud writes it (no `token_uri`).
        public let json: String

        public func write(to path: String) throws {
            try Data(self.json.utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    /// A service account registered with the authority, and a key file for it.
    public struct ServiceAccountKey: Sendable {
        public let email: String
        public let projectID: String
        public let privateKeyID: String
        /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as Google's key files carry it.
        public let privateKeyPEM: String
        /// The `service_account` key file, its `token_uri` pointing at the authority.
        public let json: String

        public func write(to path: String) throws {
            try Data(self.json.utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    /// A workload identity pool provider and the one subject token it trusts.
    public struct WorkloadIdentity: Sendable {
        public let audience: String
        public let subjectToken: String
        /// The principal the federated token acts as (what ``principal(ofBearer:)`` answers).
        public let principal: String
    }

    /// Where an `external_account` file says its subject token comes from.
    public enum SubjectTokenSource: Sendable {
        /// A file holding the token as plain text.
        case file(path: String)
        /// The authority's `/idp/subject-token`, JSON with the token in `id_token`.
        case url
    }

    /// RSA-2048 test keys, made once per process (key generation is slow in a debug build) and numbered, so
    /// that a test can sign with a key other than the registered one.
    public static func testKey(_ index: Int = 0) -> _RSA.Signing.PrivateKey {
        Self.testKeys.withLock { keys in
            if let key = keys[index] { return key }
            let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
            keys[index] = key
            return key
        }
    }

    private static let testKeys = Mutex<[Int: _RSA.Signing.PrivateKey]>([:])

    /// Registers a user whose refresh token the token endpoint accepts until ``revokeRefreshToken(of:)``.
    public func addAuthorizedUser(email: String = "user@example.com", quotaProjectID: String? = nil) -> UserCredential {
        let suffix = String(UInt64.random(in: .min ... .max), radix: 36)
        let user = AuthorizedUser(
            email: email,
            clientID: "\(suffix)-fake.apps.googleusercontent.com",
            clientSecret: "fake-client-secret-\(suffix)",
            refreshToken: "1//0fake-refresh-\(suffix)"
        )
        self.state.withLock { $0.users.append(user) }
        var fields: [String: Any] = [
            "type": "authorized_user", "client_id": user.clientID, "client_secret": user.clientSecret,
            "refresh_token": user.refreshToken, "account": "",
            "universe_domain": "googleapis.com",
        ]
        if let quotaProjectID { fields["quota_project_id"] = quotaProjectID }
        return UserCredential(
            email: email,
            clientID: user.clientID,
            clientSecret: user.clientSecret,
            refreshToken: user.refreshToken,
            json: Self.json(fields)
        )
    }

    /// The user's refresh token is refused from now on (`invalid_grant`), as after a password change.
    public func revokeRefreshToken(of user: UserCredential) {
        self.state.withLock { state in
            for index in state.users.indices where state.users[index].clientID == user.clientID {
                state.users[index].revoked = true
            }
        }
    }

    /// Registers a service account with a key from ``testKey(_:)`` number `keyIndex`.
    public func addServiceAccount(
        email: String = "fake-sa@fake-project.iam.gserviceaccount.com",
        projectID: String = "fake-project",
        keyIndex: Int = 0
    ) -> ServiceAccountKey {
        let key = Self.testKey(keyIndex)
        let privateKeyID = String(UInt64.random(in: .min ... .max), radix: 16)
        let baseURL = self.state.withLock { state in
            state.serviceAccounts[email] = ServiceAccount(
                email: email,
                projectID: projectID,
                privateKeyID: privateKeyID,
                publicKey: key.publicKey
            )
            return state.baseURL
        }
        let fields: [String: Any] = [
            "type": "service_account", "project_id": projectID, "private_key_id": privateKeyID,
            "private_key": key.pkcs8PEMRepresentation, "client_email": email, "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": baseURL + "/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        ]
        return ServiceAccountKey(
            email: email,
            projectID: projectID,
            privateKeyID: privateKeyID,
            privateKeyPEM: key.pkcs8PEMRepresentation,
            json: Self.json(fields)
        )
    }

    /// The key of the service account is refused from now on, as a deleted or disabled key is.
    public func disableServiceAccount(_ email: String) {
        self.state.withLock { $0.serviceAccounts[email]?.disabled = true }
    }

    /// Lets `principal` (a user's email, a service account, a federated principal) mint tokens for `target`
    /// with `generateAccessToken` (roles/iam.serviceAccountTokenCreator).
    public func allowImpersonation(of target: String, by principal: String) {
        _ = self.state.withLock { $0.serviceAccounts[target]?.tokenCreators.insert(principal) }
    }

    /// IAM Credentials' URL for `target`, on the authority.
    public func impersonationURL(for target: String) -> String {
        "\(self.baseURL)/v1/projects/-/serviceAccounts/\(target):generateAccessToken"
    }

    /// An `impersonated_service_account` file, as `gcloud auth application-default login
    /// --impersonate-service-account` writes it, with `source` (a user or key file's JSON) as its source.
    public func impersonatedCredentialsJSON(
        source: String,
        target: String,
        delegates: [String] = [],
        quotaProjectID: String? = nil
    ) -> String {
        var fields: [String: Any] = [
            "type": "impersonated_service_account",
            "service_account_impersonation_url": self.impersonationURL(for: target),
            "delegates": delegates,
            "source_credentials": try! JSONSerialization.jsonObject(with: Data(source.utf8)),
        ]
        if let quotaProjectID { fields["quota_project_id"] = quotaProjectID }
        return Self.json(fields)
    }

    /// Registers a workload identity pool provider trusting one new subject token.
    public func addWorkloadIdentity(subject: String = "fake-workload") -> WorkloadIdentity {
        let suffix = String(UInt64.random(in: .min ... .max), radix: 36)
        let identity = FakeGoogleAuthority.WorkloadIdentityRecord(
            audience: "//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/pool-\(suffix)"
                + "/providers/provider",
            subjectToken: "fake-oidc-subject-token-\(suffix)",
            subject: subject
        )
        self.state.withLock { $0.identities.append(identity) }
        return WorkloadIdentity(
            audience: identity.audience,
            subjectToken: identity.subjectToken,
            principal: "principal://iam.googleapis.com/subject/\(subject)"
        )
    }

    /// An `external_account` file for `identity` (STS at the authority's `/v1/token`), impersonating
    /// `serviceAccount` when given.
    public func externalAccountJSON(
        _ identity: WorkloadIdentity,
        source: SubjectTokenSource,
        impersonating serviceAccount: String? = nil
    ) -> String {
        let credentialSource: [String: Any] =
            switch source {
            case .file(let path): ["file": path, "format": ["type": "text"]]
            case .url:
                [
                    "url": self.baseURL + "/idp/subject-token", "headers": ["Metadata": "True"],
                    "format": ["type": "json", "subject_token_field_name": "id_token"],
                ]
            }
        var fields: [String: Any] = [
            "type": "external_account", "audience": identity.audience,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": self.baseURL + "/v1/token",
            "credential_source": credentialSource, "universe_domain": "googleapis.com",
        ]
        if let serviceAccount {
            fields["service_account_impersonation_url"] = self.impersonationURL(for: serviceAccount)
        }
        return Self.json(fields)
    }

    /// Attaches `email` to the fake metadata server, which then issues its tokens, in project `projectID`.
    public func attachMetadataServiceAccount(_ email: String, projectID: String = "fake-metadata-project") {
        self.state.withLock { state in
            state.metadataAccount = email
            state.metadataProject = projectID
        }
    }
}
