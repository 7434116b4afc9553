import Foundation
import Synchronization
import Telemetry

/// Access tokens for one credential: cached, refreshed ahead of expiry, one refresh at a time.
public final class GoogleAccessTokens: Sendable {
    public let credentials: GoogleCredentials
    private let fetcher: GoogleTokenFetcher
    private let clock: @Sendable () -> ContinuousClock.Instant
    private let observer: @Sendable (CredentialRefresh) -> Void
    private let cache = Mutex(AccessTokenCache())
    private let metadataProject = Mutex<String?>(nil)

    init(
        credentials: GoogleCredentials,
        fetcher: GoogleTokenFetcher,
        clock: @escaping @Sendable () -> ContinuousClock.Instant,
        observer: @escaping @Sendable (CredentialRefresh) -> Void
    ) {
        self.credentials = credentials
        self.fetcher = fetcher
        self.clock = clock
        self.observer = observer
    }

    /// A bearer token valid now.
    ///
    /// Refreshed ahead of expiry, one refresh at a time however many callers wait (single flight); while a
    /// still-valid token exists callers get it without waiting for the refresh. A caller that must wait
    /// waits for the refresh, which is bounded by the token requests' timeouts, even if its task is
    /// cancelled: the refresh serves the callers after it.
    ///
    /// - Parameter parent: the request's trace, parent of the refresh span; nil outside a request.
    /// - Throws: `AnthropicError.authentication` (401) whose message names the credential and says what to
    ///   do; it never contains a token or a secret.
    public func token(parent: TraceContext?) async throws -> String {
        switch self.cache.withLock({ $0.tokenRequested(at: self.clock()) }) {
        case .use(let token):
            return token
        case .useAndRefresh(let token):
            self.startRefresh(parent: parent)
            return token
        case .mustWait:
            break
        }
        return try await withCheckedThrowingContinuation { waiter in
            switch self.cache.withLock({ $0.waiterArrived(waiter, at: self.clock()) }) {
            case .succeed(let waiter, let token):
                waiter.resume(returning: token)
            case .succeedAndRefresh(let waiter, let token):
                waiter.resume(returning: token)
                self.startRefresh(parent: parent)
            case .refresh:
                self.startRefresh(parent: parent)
            case .wait:
                break
            }
        }
    }

    /// The project of the metadata server's environment (`computeMetadata/v1/project/project-id`), for
    /// credentials that carry none; nil for credentials other than the metadata server's.
    public func metadataProjectID() async throws -> String? {
        guard case .metadataServer(let host) = self.credentials.kind else { return nil }
        if let project = self.metadataProject.withLock({ $0 }) { return project }
        do {
            let project = try await self.fetcher.metadataProjectID(host: host)
            self.metadataProject.withLock { $0 = project }
            return project
        } catch {
            throw AnthropicError.authentication(
                "Google Cloud project could not be read from \(self.credentials.source): \(error.detail). "
                    + "Set vertex_project or GOOGLE_CLOUD_PROJECT."
            )
        }
    }

    /// When the cached token expires, on the store's clock; nil before the first token.
    public var expiresAt: ContinuousClock.Instant? { self.cache.withLock { $0.expiresAt } }

    /// Runs the one refresh on its own task, so that no caller's cancellation cancels it for the others.
    private func startRefresh(parent: TraceContext?) {
        Task { await self.refresh(parent: parent) }
    }

    private func refresh(parent: TraceContext?) async {
        let started = self.clock()
        let startNanos = Self.unixNanos()
        let result: Result<AccessTokenCache.Token, GoogleAuthFailure>
        do {
            let grant = try await self.fetcher.fetch(self.credentials.kind)
            result = .success(.init(value: grant.accessToken, grantedAt: started, lifetime: grant.lifetime))
        } catch {
            result = .failure(error)
        }
        let completion = self.cache.withLock {
            $0.refreshFinished(result.mapError { self.clientError(for: $0) as any Error })
        }
        var refresh = CredentialRefresh(
            source: self.credentials.source.label,
            typeName: self.credentials.typeName,
            serverAddress: self.fetcher.serverAddress(of: self.credentials.kind),
            startUnixNano: startNanos,
            endUnixNano: Self.unixNanos(),
            parent: parent
        )
        switch result {
        case .success(let token):
            refresh.lifetime = token.expiresAt - started
            refresh.expiresAt = token.expiresAt
        case .failure(let failure):
            refresh.errorType = failure.errorType
        }
        // Observed before the waiters resume, so that what a caller sees next has been counted.
        self.observer(refresh)
        for waiter in completion.waiters { waiter.resume(with: completion.result) }
    }

    /// The 401 a client sees: which credential, what went wrong, and what to run or check.
    func clientError(for failure: GoogleAuthFailure) -> AnthropicError {
        let who = self.credentials.account.map { " for \($0)" } ?? ""
        let message =
            "Google credentials (\(self.credentials.typeName)\(who) from \(self.credentials.source)) "
            + "could not be refreshed: \(failure.detail). \(Self.advice(for: self.credentials))"
        return AnthropicError.authentication(Redaction.redact(message, Self.secrets(of: self.credentials.kind)))
    }

    static func advice(for credentials: GoogleCredentials) -> String {
        switch credentials.kind {
        case .authorizedUser:
            return "Run `gcloud auth application-default login` to sign in again."
        case .serviceAccount:
            return "Check that the service account key in \(credentials.source) is current (not deleted or disabled) "
                + "and that GOOGLE_APPLICATION_CREDENTIALS points at it."
        case .impersonated:
            return "Check the source credentials (for a user, run `gcloud auth application-default login`) and "
                + "that they hold roles/iam.serviceAccountTokenCreator on the impersonated service account."
        case .externalAccount:
            return "Check the subject token source, the workload identity pool provider (audience), and that the "
                + "federated identity may impersonate the service account."
        case .metadataServer:
            return "Outside Google Cloud, run `gcloud auth application-default login` or set "
                + "GOOGLE_APPLICATION_CREDENTIALS to a service account key file; on Google Cloud, check the "
                + "service account attached to the instance or service."
        }
    }

    /// Everything in `kind` that must never reach a message.
    static func secrets(of kind: GoogleCredentials.Kind) -> [String] {
        switch kind {
        case .authorizedUser(let user): [user.clientSecret, user.refreshToken]
        case .serviceAccount(let account): [account.privateKeyPEM]
        case .impersonated(let impersonated): Self.secrets(of: impersonated.source)
        case .externalAccount, .metadataServer: []
        }
    }

    private static func unixNanos() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1_000_000_000))
    }
}
