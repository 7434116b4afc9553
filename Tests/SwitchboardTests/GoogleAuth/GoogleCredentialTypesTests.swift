import Foundation
import SwitchboardTesting
import Testing
import Upstream

@testable import Switchboard

/// Each credential type, end to end against the fake Google authority: the token the store hands out is one
/// the authority issued to the expected principal.
@Suite("Google credentials: each type gets a token")
struct GoogleCredentialTypesTests {
    @Test("authorized_user: the refresh-token grant; the token is cached")
    func authorizedUser() async throws {
        try await GoogleAuthHarness.run { harness in
            let user = harness.authority.addAuthorizedUser(email: "dev@example.com", quotaProjectID: "billing-project")
            let credentials = try harness.credentials(user.json)
            #expect(credentials.typeName == "authorized_user")
            #expect(credentials.quotaProjectID == "billing-project")
            let tokens = harness.store.tokens(for: credentials)
            let token = try await tokens.token(parent: nil)
            #expect(harness.authority.principal(ofBearer: token) == "dev@example.com")
            #expect(try await tokens.token(parent: nil) == token)
            #expect(harness.store.tokens(for: credentials) === tokens)
            #expect(harness.authority.requestCount(.refreshToken) == 1)
        }
    }

    @Test("service_account: an RS256 JWT the authority verifies against the registered key")
    func serviceAccount() async throws {
        try await GoogleAuthHarness.run { harness in
            let key = harness.authority.addServiceAccount(
                email: "runner@proj.iam.gserviceaccount.com",
                projectID: "proj"
            )
            let credentials = try harness.credentials(key.json)
            #expect(credentials.projectID == "proj")
            #expect(credentials.account == "runner@proj.iam.gserviceaccount.com")
            let token = try await harness.store.tokens(for: credentials).token(parent: nil)
            #expect(harness.authority.principal(ofBearer: token) == "runner@proj.iam.gserviceaccount.com")
            #expect(harness.authority.requestCount(.jwtBearer) == 1)
        }
    }

    @Test("service_account: a JWT signed with another key is refused, and the 401 quotes no key")
    func serviceAccountWrongKey() async throws {
        try await GoogleAuthHarness.run { harness in
            let key = harness.authority.addServiceAccount(keyIndex: 0)
            let otherPEM = FakeGoogleAuthority.testKey(1).pkcs8PEMRepresentation
            let forged = try JSONSerialization.jsonObject(with: Data(key.json.utf8)) as! [String: Any]
            var fields = forged
            fields["private_key"] = otherPEM
            let json = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
            let credentials = try harness.credentials(json)
            let error = try await #require(throws: AnthropicError.self) {
                try await harness.store.tokens(for: credentials).token(parent: nil)
            }
            #expect(error.statusCode == 401)
            #expect(error.message.contains("Invalid JWT Signature"))
            #expect(error.message.contains("GOOGLE_APPLICATION_CREDENTIALS"))
            #expect(!error.message.contains("PRIVATE KEY"))
        }
    }

    @Test("impersonated_service_account: the user's token buys the target's from generateAccessToken")
    func impersonated() async throws {
        try await GoogleAuthHarness.run { harness in
            let user = harness.authority.addAuthorizedUser(email: "dev@example.com")
            let target = harness.authority.addServiceAccount(email: "deployer@proj.iam.gserviceaccount.com")
            harness.authority.allowImpersonation(of: target.email, by: "dev@example.com")
            let json = harness.authority.impersonatedCredentialsJSON(
                source: user.json,
                target: target.email,
                quotaProjectID: "quota"
            )
            let credentials = try harness.credentials(json)
            #expect(credentials.typeName == "impersonated_service_account")
            #expect(credentials.account == target.email)
            #expect(credentials.quotaProjectID == "quota")
            let token = try await harness.store.tokens(for: credentials).token(parent: nil)
            #expect(harness.authority.principal(ofBearer: token) == target.email)
            #expect(harness.authority.requestCount(.refreshToken) == 1)
            #expect(harness.authority.requestCount(.generateAccessToken) == 1)
        }
    }

    @Test("impersonated_service_account without the Token Creator role: a 401 that says which role")
    func impersonationDenied() async throws {
        try await GoogleAuthHarness.run { harness in
            let source = harness.authority.addServiceAccount(email: "ci@proj.iam.gserviceaccount.com")
            let target = harness.authority.addServiceAccount(email: "deployer@proj.iam.gserviceaccount.com")
            let json = harness.authority.impersonatedCredentialsJSON(source: source.json, target: target.email)
            let credentials = try harness.credentials(json)
            let error = try await #require(throws: AnthropicError.self) {
                try await harness.store.tokens(for: credentials).token(parent: nil)
            }
            #expect(error.statusCode == 401)
            #expect(error.message.contains("403"))
            #expect(error.message.contains("roles/iam.serviceAccountTokenCreator"))
            #expect(!error.message.contains("ya29."))
        }
    }

    @Test("external_account, file-sourced: the subject token is exchanged at STS")
    func externalAccountFromFile() async throws {
        try await GoogleAuthHarness.run { harness in
            let identity = harness.authority.addWorkloadIdentity(subject: "ci-job")
            let tokenFile = try harness.write(identity.subjectToken + "\n", named: "oidc-token")
            let json = harness.authority.externalAccountJSON(identity, source: .file(path: tokenFile))
            let credentials = try harness.credentials(json)
            #expect(credentials.typeName == "external_account")
            let token = try await harness.store.tokens(for: credentials).token(parent: nil)
            #expect(harness.authority.principal(ofBearer: token) == identity.principal)
            #expect(harness.authority.requestCount(.tokenExchange) == 1)
        }
    }

    @Test("external_account, URL-sourced with impersonation: subject token, STS, then generateAccessToken")
    func externalAccountFromURLImpersonating() async throws {
        try await GoogleAuthHarness.run { harness in
            let identity = harness.authority.addWorkloadIdentity(subject: "azure-vm")
            let target = harness.authority.addServiceAccount(email: "federated@proj.iam.gserviceaccount.com")
            harness.authority.allowImpersonation(of: target.email, by: identity.principal)
            let json = harness.authority.externalAccountJSON(identity, source: .url, impersonating: target.email)
            let credentials = try harness.credentials(json)
            #expect(credentials.account == target.email)
            let token = try await harness.store.tokens(for: credentials).token(parent: nil)
            #expect(harness.authority.principal(ofBearer: token) == target.email)
            #expect(harness.authority.requestCount(.subjectToken) == 1)
            #expect(harness.authority.requestCount(.tokenExchange) == 1)
            #expect(harness.authority.requestCount(.generateAccessToken) == 1)
        }
    }

    @Test("external_account with a wrong subject token: STS's invalid_grant in a 401, the token not quoted")
    func externalAccountRefused() async throws {
        try await GoogleAuthHarness.run { harness in
            let identity = harness.authority.addWorkloadIdentity()
            let tokenFile = try harness.write("stale-subject-token-123", named: "oidc-token")
            let json = harness.authority.externalAccountJSON(identity, source: .file(path: tokenFile))
            let error = try await #require(throws: AnthropicError.self) {
                try await harness.store.tokens(for: try harness.credentials(json)).token(parent: nil)
            }
            #expect(error.message.contains("invalid_grant"))
            #expect(error.message.contains("workload identity pool provider"))
            #expect(!error.message.contains("stale-subject-token-123"))
        }
    }

    @Test("the metadata server at GCE_METADATA_HOST: token and project id, with Metadata-Flavor")
    func metadataServer() async throws {
        try await GoogleAuthHarness.run { harness in
            harness.authority.attachMetadataServiceAccount("vm@proj.iam.gserviceaccount.com", projectID: "vm-project")
            let credentials = try GoogleCredentials.resolve(
                vertexCredentials: nil,
                environment: ["HOME": harness.directory, "GCE_METADATA_HOST": harness.fake.hostAndPort]
            )
            #expect(credentials.source == .metadataServer(host: harness.fake.hostAndPort))
            #expect(credentials.typeName == "gce_metadata")
            let tokens = harness.store.tokens(for: credentials)
            let token = try await tokens.token(parent: nil)
            #expect(harness.authority.principal(ofBearer: token) == "vm@proj.iam.gserviceaccount.com")
            #expect(try await tokens.metadataProjectID() == "vm-project")
        }
    }

    @Test("the fake metadata server refuses a request without Metadata-Flavor: Google")
    func metadataFlavorRequired() async throws {
        try await GoogleAuthHarness.run { harness in
            harness.authority.attachMetadataServiceAccount("vm@proj.iam.gserviceaccount.com")
            let upstream = UpstreamClient(configuration: .init(proxy: .none))
            let response = try await upstream.execute(
                UpstreamRequest(
                    url: harness.fake.baseURL + "/computeMetadata/v1/instance/service-accounts/default/token"
                )
            )
            #expect(response.status == 403)
            await upstream.shutdown()
        }
    }
}
