/// Whether the shared store answers, as the gateway last saw it. Every call's outcome is a transition; the
/// action it returns is what to say about it (once on entering degraded mode, once on leaving it).
struct StoreHealth: Sendable {
    enum State: Sendable {
        case up
        case down(since: ContinuousClock.Instant, reason: String)
    }

    enum Action: Sendable, Equatable {
        case none
        /// The store stopped answering: log it, and apply `on_store_failure`.
        case enteredDegradedMode(reason: String)
        /// It answers again after `downFor`.
        case leftDegradedMode(downFor: Duration)
    }

    private(set) var state = State.up
    /// Time spent down before the current outage (`switchboard_store_degraded_seconds_total`).
    private var degradedBefore = Duration.zero

    var isUp: Bool {
        if case .up = self.state { true } else { false }
    }

    mutating func failed(_ reason: String, at now: ContinuousClock.Instant) -> Action {
        guard case .up = self.state else { return .none }
        self.state = .down(since: now, reason: reason)
        return .enteredDegradedMode(reason: reason)
    }

    mutating func succeeded(at now: ContinuousClock.Instant) -> Action {
        guard case .down(let since, _) = self.state else { return .none }
        self.state = .up
        self.degradedBefore += now - since
        return .leftDegradedMode(downFor: now - since)
    }

    /// Seconds spent in degraded mode since start, the current outage included.
    func degradedSeconds(at now: ContinuousClock.Instant) -> Double {
        var total = self.degradedBefore
        if case .down(let since, _) = self.state { total += now - since }
        return Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
    }
}

/// `general_settings.on_store_failure`: what the gateway does with a request on a virtual key while the
/// shared store does not answer. Keys, teams and budgets are then those last read; spend is kept to write.
public enum StoreFailurePolicy: String, Sendable, CaseIterable {
    /// Refuse requests on virtual keys (503) until the store answers: no limit can be exceeded.
    case failClosed = "fail_closed"
    /// Serve them with no rate limits: nothing is refused, limits may be exceeded by any amount.
    case failOpen = "fail_open"
    /// Each replica enforces its share of each limit (limit ÷ live replicas last seen), counted in memory.
    case local
}
