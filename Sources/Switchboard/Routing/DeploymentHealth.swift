/// One deployment's circuit breaker: healthy while its recent failures stay within `allowed_fails`,
/// cooling for `cooldown_time` (or the upstream's `Retry-After`) after that, then half-open: one probe
/// request goes through, and its outcome decides between healthy and cooling again.
///
/// Transitions take the time and return what happened, so the ``ModelRouter`` can count and log them after
/// releasing its lock, and tests drive them with any clock.
struct DeploymentHealth: Sendable {
    enum State: Sendable, Equatable {
        /// Serving; `failures` are the times of failures within the last minute.
        case healthy(failures: [ContinuousClock.Instant])
        /// Skipped until `until`.
        case cooling(until: ContinuousClock.Instant)
        /// The cooldown is over; `probing` while the one request let through has not finished.
        case halfOpen(probing: Bool)
    }

    /// What a transition did, for metrics and logs.
    enum Transition: Sendable, Equatable {
        case none
        case cooledDown(for: Duration)
        case recovered
    }

    /// Whether a request may go to the deployment now.
    enum Availability: Sendable, Equatable {
        case available
        /// Available for one probe request: the cooldown has ended.
        case probe
        /// Not before `until` (nil: a probe is running; its outcome decides).
        case unavailable(until: ContinuousClock.Instant?)
    }

    /// The name metrics and `/health/ready` use for the state.
    enum Phase: String, Sendable, CaseIterable {
        case healthy, cooling
        case halfOpen = "half_open"
    }

    private(set) var state = State.healthy(failures: [])
    static let failureWindow: Duration = .seconds(60)

    func availability(at now: ContinuousClock.Instant) -> Availability {
        switch self.state {
        case .healthy: .available
        case .cooling(let until): now >= until ? .probe : .unavailable(until: until)
        case .halfOpen(let probing): probing ? .unavailable(until: nil) : .probe
        }
    }

    func phase(at now: ContinuousClock.Instant) -> Phase {
        switch self.state {
        case .healthy: .healthy
        case .cooling(let until): now >= until ? .halfOpen : .cooling
        case .halfOpen: .halfOpen
        }
    }

    /// A request was sent to the deployment. After a cooldown it is the probe, and no other request goes
    /// until it finishes.
    mutating func requestStarted(at now: ContinuousClock.Instant) {
        switch self.state {
        case .healthy, .halfOpen(probing: true): break
        case .cooling(let until): if now >= until { self.state = .halfOpen(probing: true) }
        case .halfOpen(probing: false): self.state = .halfOpen(probing: true)
        }
    }

    @discardableResult
    mutating func succeeded() -> Transition {
        switch self.state {
        case .halfOpen:
            self.state = .healthy(failures: [])
            return .recovered
        case .healthy, .cooling:
            return .none
        }
    }

    /// A failure that counts against the deployment. It cools down when this failure is one more than
    /// `allowedFails` within a minute, when it was the probe, or at once for as long as the upstream said
    /// (`retryAfter`, a 429's `Retry-After`).
    mutating func failed(
        at now: ContinuousClock.Instant,
        allowedFails: Int,
        cooldown: Duration,
        retryAfter: Duration?
    ) -> Transition {
        switch self.state {
        case .healthy(var failures):
            failures.removeAll { now - $0 >= Self.failureWindow }
            failures.append(now)
            if let retryAfter, retryAfter > .zero {
                self.state = .cooling(until: now + retryAfter)
                return .cooledDown(for: retryAfter)
            }
            if failures.count > allowedFails {
                self.state = .cooling(until: now + cooldown)
                return .cooledDown(for: cooldown)
            }
            self.state = .healthy(failures: failures)
            return .none
        case .halfOpen:
            let length = max(retryAfter ?? .zero, cooldown)
            self.state = .cooling(until: now + length)
            return .cooledDown(for: length)
        case .cooling(let until):
            // A request sent before the cooldown began, failing late: only a longer Retry-After extends it.
            guard let retryAfter, now + retryAfter > until else { return .none }
            self.state = .cooling(until: now + retryAfter)
            return .none
        }
    }

    /// The request ended without saying anything about the deployment (the client left, the request was
    /// wrong): a probe that ends so lets the next request probe instead.
    mutating func abandoned() {
        if case .halfOpen(probing: true) = self.state { self.state = .halfOpen(probing: false) }
    }
}
