import Synchronization
import Upstream

/// Access tokens for every credential the gateway uses. One per process: it outlives configuration reloads,
/// so a reload that keeps a credential keeps its token.
public final class GoogleTokenStore: Sendable {
    private let fetcher: GoogleTokenFetcher
    private let clock: @Sendable () -> ContinuousClock.Instant
    private let observer: @Sendable (CredentialRefresh) -> Void
    private let entries = Mutex<[GoogleCredentials: GoogleAccessTokens]>([:])

    /// - Parameters:
    ///   - upstream: the HTTP client token requests go through.
    ///   - clock: the time that decides expiry; tests pass their own.
    ///   - observer: told of every refresh, for metrics and spans.
    ///   - authorizedUserTokenURL: where `authorized_user` refresh tokens are exchanged. Google's endpoint
    ///     always, as google-auth does whatever the file says; tests pass a fake's.
    public init(
        upstream: UpstreamClient,
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        observer: @escaping @Sendable (CredentialRefresh) -> Void = { _ in },
        authorizedUserTokenURL: String = GoogleCredentials.defaultTokenURI
    ) {
        self.fetcher = GoogleTokenFetcher(upstream: upstream, authorizedUserTokenURL: authorizedUserTokenURL)
        self.clock = clock
        self.observer = observer
    }

    /// The tokens of `credentials`: the same object for equal credentials (same source, same content).
    public func tokens(for credentials: GoogleCredentials) -> GoogleAccessTokens {
        self.entries.withLock { entries in
            if let existing = entries[credentials] { return existing }
            let tokens = GoogleAccessTokens(
                credentials: credentials,
                fetcher: self.fetcher,
                clock: self.clock,
                observer: self.observer
            )
            entries[credentials] = tokens
            return tokens
        }
    }
}
