import Foundation
import SwitchboardTesting
import Telemetry
import Testing
import Upstream

@testable import Switchboard

@Suite("Google credentials: metrics and spans")
struct CredentialMetricsTests {
    @Test("refreshes are counted by source and result; the gauge shows the time the token has left")
    func metricsFromRefreshes() async throws {
        let registry = MetricsRegistry()
        let metrics = CredentialMetrics(registry: registry)
        let fake = try await FakeGoogleAuthServer.start()
        let upstream = UpstreamClient(configuration: .init(proxy: .none))
        let store = GoogleTokenStore(
            upstream: upstream,
            observer: { metrics.record($0) },
            authorizedUserTokenURL: fake.authority.tokenURL
        )
        fake.authority.tokenLifetime = .seconds(600)
        let user = fake.authority.addAuthorizedUser()
        let credentials = try GoogleCredentials.resolve(vertexCredentials: user.json, environment: [:])
        _ = try await store.tokens(for: credentials).token(parent: nil)
        let again = try GoogleCredentials.resolve(vertexCredentials: user.json + "\n", environment: ["X": "1"])
        #expect(store.tokens(for: again) === store.tokens(for: credentials), "same source and content: same cache")
        let revokedUser = fake.authority.addAuthorizedUser(email: "gone@example.com")
        fake.authority.revokeRefreshToken(of: revokedUser)
        let revoked = try GoogleCredentials.resolve(vertexCredentials: revokedUser.json, environment: [:])
        await #expect(throws: AnthropicError.self) { try await store.tokens(for: revoked).token(parent: nil) }
        await upstream.shutdown()
        await fake.stop()

        let text = MetricsExposition.render(registry, format: .prometheusText)
        #expect(
            text.contains(#"switchboard_credential_refreshes_total{source="vertex_credentials",result="success"} 1"#)
        )
        #expect(
            text.contains(#"switchboard_credential_refreshes_total{source="vertex_credentials",result="failure"} 1"#)
        )
        let line = try #require(
            text.split(separator: "\n").first {
                $0.hasPrefix(
                    #"switchboard_credential_token_expiry_seconds{source="vertex_credentials",type="authorized_user"}"#
                )
            }
        )
        let seconds = try #require(Double(line.split(separator: " ").last ?? ""))
        #expect(seconds > 590 && seconds <= 600)
    }

    @Test("a refresh span is a client span under the request that waited, with source, type, result")
    func spanUnderParent() {
        let parent = TraceContext()
        let failed = CredentialRefresh(
            source: "gcloud",
            typeName: "authorized_user",
            serverAddress: "oauth2.googleapis.com",
            errorType: "http_400",
            startUnixNano: 1_000,
            endUnixNano: 5_000,
            parent: parent
        )
        let span = CredentialMetrics.span(for: failed)
        #expect(span.traceID == parent.traceID)
        #expect(span.parentSpanID == parent.spanID)
        #expect(span.spanID != parent.spanID)
        #expect(span.kind == .client)
        #expect(span.status == .error)
        #expect(span.attributes["switchboard.credential.source"] == "gcloud")
        #expect(span.attributes["switchboard.credential.type"] == "authorized_user")
        #expect(span.attributes["switchboard.credential.result"] == "failure")
        #expect(span.attributes["server.address"] == "oauth2.googleapis.com")
        #expect(span.attributes["error.type"] == "http_400")

        let background = CredentialMetrics.span(
            for: CredentialRefresh(
                source: "metadata_server",
                typeName: "gce_metadata",
                startUnixNano: 1,
                endUnixNano: 2
            )
        )
        #expect(background.parentSpanID == nil)
        #expect(background.status == .unset)
        #expect(background.attributes["error.type"] == nil)
    }

    @Test("the store reports the parent trace and the server of each refresh")
    func refreshCarriesParent() async throws {
        try await GoogleAuthHarness.run { harness in
            let key = harness.authority.addServiceAccount()
            let parent = TraceContext()
            _ = try await harness.store.tokens(for: try harness.credentials(key.json)).token(parent: parent)
            let refresh = try #require(harness.recorded.first)
            #expect(refresh.parent == parent)
            #expect(refresh.serverAddress == "127.0.0.1:\(harness.fake.server.port)")
            #expect(refresh.source == "GOOGLE_APPLICATION_CREDENTIALS")
            #expect(refresh.typeName == "service_account")
            #expect(refresh.succeeded)
            #expect(refresh.endUnixNano >= refresh.startUnixNano)
        }
    }
}
