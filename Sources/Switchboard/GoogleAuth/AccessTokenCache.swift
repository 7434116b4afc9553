/// One credential's cached access token and the refresh in flight, as a state machine: each transition takes
/// the time and returns what the caller must do once it has released the lock (resume waiters, start the one
/// refresh). At most one refresh runs at a time, however many callers ask.
///
/// A token is *due* for refresh when less than min(3 min 45 s, half its lifetime) is left (google-auth's
/// refresh threshold, shortened for short-lived tokens) and *usable* until min(10 s, a quarter of its
/// lifetime) before it expires. While a usable token exists, callers get it without waiting for the refresh.
struct AccessTokenCache: Sendable {
    typealias Waiter = CheckedContinuation<String, any Error>

    struct Token: Sendable, Equatable {
        var value: String
        var expiresAt: ContinuousClock.Instant
        var refreshAt: ContinuousClock.Instant
        var usableUntil: ContinuousClock.Instant

        static let refreshThreshold: Duration = .seconds(225)
        static let clockSkew: Duration = .seconds(10)

        /// A token granted at `grantedAt` (when its request was sent) lasting `lifetime`.
        init(value: String, grantedAt: ContinuousClock.Instant, lifetime: Duration) {
            self.value = value
            self.expiresAt = grantedAt + lifetime
            self.refreshAt = self.expiresAt - min(Self.refreshThreshold, lifetime / 2)
            self.usableUntil = self.expiresAt - min(Self.clockSkew, lifetime / 4)
        }
    }

    enum State: Sendable {
        /// No refresh running; the last token, if any (possibly expired).
        case idle(Token?)
        /// One refresh running; callers that found no usable token wait for it.
        case refreshing(Token?, waiters: [Waiter])
    }

    /// What `tokenRequested` tells a caller who has not queued.
    enum RequestAction: Sendable {
        case use(String)
        /// Use this token, and start the refresh (it is due; the state now says refreshing).
        case useAndRefresh(String)
        /// No usable token: queue with `waiterArrived`.
        case mustWait
    }

    /// What `waiterArrived` tells the queued caller.
    enum WaitAction: Sendable {
        case succeed(Waiter, String)
        /// Resume the caller with this token, and start the refresh (the state now says refreshing).
        case succeedAndRefresh(Waiter, String)
        /// Queued; start the refresh (the state now says refreshing).
        case refresh
        /// Queued behind the refresh already running.
        case wait
    }

    /// What to do with the waiters when a refresh ends.
    struct Completion: Sendable {
        var waiters: [Waiter]
        var result: Result<String, any Error>
    }

    private(set) var state = State.idle(nil)

    mutating func tokenRequested(at now: ContinuousClock.Instant) -> RequestAction {
        switch self.state {
        case .idle(let token?) where now < token.usableUntil:
            guard now >= token.refreshAt else { return .use(token.value) }
            self.state = .refreshing(token, waiters: [])
            return .useAndRefresh(token.value)
        case .refreshing(let token?, _) where now < token.usableUntil:
            return .use(token.value)
        case .idle, .refreshing:
            return .mustWait
        }
    }

    mutating func waiterArrived(_ waiter: Waiter, at now: ContinuousClock.Instant) -> WaitAction {
        switch self.state {
        case .idle(let token?) where now < token.usableUntil:
            // Another caller's refresh finished between `tokenRequested` and now.
            guard now >= token.refreshAt else { return .succeed(waiter, token.value) }
            self.state = .refreshing(token, waiters: [])
            return .succeedAndRefresh(waiter, token.value)
        case .refreshing(let token?, _) where now < token.usableUntil:
            return .succeed(waiter, token.value)
        case .idle(let token):
            self.state = .refreshing(token, waiters: [waiter])
            return .refresh
        case .refreshing(let token, var waiters):
            waiters.append(waiter)
            self.state = .refreshing(token, waiters: waiters)
            return .wait
        }
    }

    /// The refresh ended: the new token, or the error every waiter gets. After a failure the previous token,
    /// if still usable, keeps serving, and the next caller that finds it due (or unusable) tries again.
    mutating func refreshFinished(_ result: Result<Token, any Error>) -> Completion {
        guard case .refreshing(let previous, let waiters) = self.state else {
            preconditionFailure("a refresh finished that the cache did not start")
        }
        switch result {
        case .success(let token):
            self.state = .idle(token)
            return Completion(waiters: waiters, result: .success(token.value))
        case .failure(let error):
            self.state = .idle(previous)
            return Completion(waiters: waiters, result: .failure(error))
        }
    }

    /// The token's expiry, for the time-to-expiry gauge.
    var expiresAt: ContinuousClock.Instant? {
        switch self.state {
        case .idle(let token), .refreshing(let token, _): token?.expiresAt
        }
    }
}
