import Foundation
import SwitchboardTesting
import Synchronization
import Telemetry
import Testing

@testable import Switchboard

/// Refresh ahead of expiry, single flight, and what a failed refresh tells the client.
@Suite("Google access tokens: refresh")
struct GoogleTokenRefreshTests {
    /// A clock the test moves forward by hand, on top of the real one.
    final class ManualClock: Sendable {
        private let offset = Mutex(Duration.zero)
        func advance(by duration: Duration) { self.offset.withLock { $0 += duration } }
        var now: ContinuousClock.Instant { .now + self.offset.withLock { $0 } }
    }

    /// Polls `condition` every 10 ms for at most 5 s.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test("a 4-second token: reused while fresh, refreshed in the background once due, replaced once expired")
    func refreshAheadOfExpiry() async throws {
        let clock = ManualClock()
        try await GoogleAuthHarness.run(clock: { clock.now }) { harness in
            harness.authority.tokenLifetime = .seconds(4)
            let key = harness.authority.addServiceAccount()
            let tokens = harness.store.tokens(for: try harness.credentials(key.json))
            let first = try await tokens.token(parent: nil)

            clock.advance(by: .seconds(1))
            #expect(try await tokens.token(parent: nil) == first, "fresh: no refresh")
            #expect(harness.authority.requestCount(.jwtBearer) == 1)

            // Due (under half the lifetime left) but usable: the caller gets it at once, a refresh starts.
            clock.advance(by: .milliseconds(1500))
            #expect(try await tokens.token(parent: nil) == first)
            #expect(try await Self.eventually { harness.recorded.count == 2 })
            let second = try await tokens.token(parent: nil)
            #expect(second != first)
            #expect(harness.authority.principal(ofBearer: second) == key.email)
            #expect(harness.authority.requestCount(.jwtBearer) == 2)

            // Past its expiry the caller waits for a new one rather than getting the old.
            clock.advance(by: .seconds(10))
            let third = try await tokens.token(parent: nil)
            #expect(third != second)
            #expect(harness.authority.requestCount(.jwtBearer) == 3)
        }
    }

    @Test("50 concurrent callers with no token: exactly one grant, and all get its token")
    func singleFlight() async throws {
        try await GoogleAuthHarness.run { harness in
            harness.authority.delay = .milliseconds(300)
            let user = harness.authority.addAuthorizedUser()
            let tokens = harness.store.tokens(for: try harness.credentials(user.json))
            let results = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 { group.addTask { try await tokens.token(parent: nil) } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(results.count == 50)
            #expect(Set(results).count == 1)
            #expect(harness.authority.requestCount(.refreshToken) == 1)
            #expect(harness.recorded.count == 1)
        }
    }

    @Test("a revoked refresh token: every waiter gets one 401 that says to log in again, with no secret in it")
    func revokedRefreshToken() async throws {
        try await GoogleAuthHarness.run { harness in
            harness.authority.delay = .milliseconds(200)
            let user = harness.authority.addAuthorizedUser()
            let credentials = try harness.credentials(user.json)
            let tokens = harness.store.tokens(for: credentials)
            _ = try await tokens.token(parent: nil)
            harness.authority.revokeRefreshToken(of: user)

            let other = harness.store.tokens(for: try harness.credentials(user.json, named: "same-user.json"))
            let errors = await withTaskGroup(of: (any Error)?.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        do {
                            _ = try await other.token(parent: nil)
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                return await group.reduce(into: [(any Error)?]()) { $0.append($1) }
            }
            #expect(harness.authority.requestCount(.refreshToken) == 2, "one refresh for all ten waiters")
            let failures = errors.compactMap { $0 as? AnthropicError }
            #expect(failures.count == 10)
            let error = try #require(failures.first)
            #expect(error.statusCode == 401)
            #expect(error.type == "authentication_error")
            #expect(error.message.contains("gcloud auth application-default login"))
            #expect(error.message.contains("invalid_grant"))
            #expect(error.message.contains("same-user.json"))
            for secret in [user.refreshToken, user.clientSecret, "ya29."] {
                #expect(!error.message.contains(secret))
            }

            // The next call tries again (and fails again): no token was cached, no failure is remembered.
            await #expect(throws: AnthropicError.self) { try await other.token(parent: nil) }
            #expect(harness.authority.requestCount(.refreshToken) == 3)
            #expect(harness.recorded.filter { !$0.succeeded }.map(\.errorType) == ["http_400", "http_400"])
        }
    }

    @Test("a refresh that fails while the token is still usable: callers keep the token")
    func backgroundFailureKeepsToken() async throws {
        let clock = ManualClock()
        try await GoogleAuthHarness.run(clock: { clock.now }) { harness in
            harness.authority.tokenLifetime = .seconds(60)
            let key = harness.authority.addServiceAccount()
            let tokens = harness.store.tokens(for: try harness.credentials(key.json))
            let token = try await tokens.token(parent: nil)
            harness.authority.failureStatus = 503
            clock.advance(by: .seconds(35))
            #expect(try await tokens.token(parent: nil) == token)
            #expect(try await Self.eventually { harness.recorded.count == 2 })
            #expect(harness.recorded.last?.errorType == "http_503")
            #expect(try await tokens.token(parent: nil) == token)
        }
    }

    @Test("a disabled key: the 401 points at the key and GOOGLE_APPLICATION_CREDENTIALS")
    func disabledServiceAccount() async throws {
        try await GoogleAuthHarness.run { harness in
            let key = harness.authority.addServiceAccount()
            harness.authority.disableServiceAccount(key.email)
            let error = try await #require(throws: AnthropicError.self) {
                try await harness.store.tokens(for: try harness.credentials(key.json)).token(parent: nil)
            }
            #expect(error.statusCode == 401)
            #expect(error.message.contains(key.email))
            #expect(error.message.contains("service account key"))
            #expect(error.message.contains("GOOGLE_APPLICATION_CREDENTIALS"))
            #expect(!error.message.contains("PRIVATE KEY"))
        }
    }

    @Test("no metadata server: the 401 says to log in with gcloud or set GOOGLE_APPLICATION_CREDENTIALS")
    func noMetadataServer() async throws {
        try await GoogleAuthHarness.run { harness in
            let credentials = try GoogleCredentials.resolve(
                vertexCredentials: nil,
                environment: ["HOME": harness.directory, "GCE_METADATA_HOST": "127.0.0.1:1"]
            )
            let error = try await #require(throws: AnthropicError.self) {
                try await harness.store.tokens(for: credentials).token(parent: nil)
            }
            #expect(error.statusCode == 401)
            #expect(error.message.contains("the metadata server (127.0.0.1:1)"))
            #expect(error.message.contains("gcloud auth application-default login"))
            #expect(error.message.contains("GOOGLE_APPLICATION_CREDENTIALS"))
            #expect(harness.recorded.first?.errorType == "connection_refused")
        }
    }

    @Test("expires_in arrives as a number or as a string")
    func lenientExpiresIn() throws {
        let number = try GoogleTokenFetcher.oauthGrant(
            status: 200,
            body: #"{"access_token":"a","expires_in":3599}"#,
            secrets: []
        )
        let text = try GoogleTokenFetcher.oauthGrant(
            status: 200,
            body: #"{"access_token":"a","expires_in":"3599"}"#,
            secrets: []
        )
        #expect(number.lifetime == .seconds(3599))
        #expect(text.lifetime == .seconds(3599))
        #expect(throws: GoogleAuthFailure.self) {
            try GoogleTokenFetcher.oauthGrant(status: 200, body: #"{"access_token":"a"}"#, secrets: [])
        }
    }
}

@Suite("Google access tokens: no secret in messages")
struct GoogleAuthRedactionTests {
    @Test("an error description echoing a secret, or any ya29 token, is redacted")
    func redaction() {
        let failure = #expect(throws: GoogleAuthFailure.self) {
            try GoogleTokenFetcher.oauthGrant(
                status: 400,
                body: #"{"error":"invalid_grant","error_description":"bad token 1//0secret-xyz for ya29.abc-DEF"}"#,
                secrets: ["1//0secret-xyz"]
            )
        }
        #expect(
            failure?.detail
                == "the token endpoint answered 400 invalid_grant: bad token [redacted] for [redacted]"
        )
        #expect(failure?.errorType == "http_400")
    }
}
