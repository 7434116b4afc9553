import OrderedCollections
import Synchronization

/// Chooses the deployment of a model group each attempt goes to, and keeps what that choice rests on:
/// each deployment's health (``DeploymentHealth``), requests in flight, use of its `rpm`/`tpm` in the
/// current minute, recent time to first token, and which deployment each Claude Code session used last.
///
/// One model router serves every request, and outlives configuration reloads: state is kept per
/// ``ModelDeployment/routingKey``, so a deployment that stays in the new file keeps its cooldown.
/// It reads time only from its clock, so tests drive cooldowns without sleeping.
public final class ModelRouter: Sendable {
    public typealias Clock = @Sendable () -> ContinuousClock.Instant

    private let now: Clock
    private let state: Mutex<State>
    private let onCooldown: @Sendable (_ group: String, _ deployment: String, _ length: Duration) -> Void

    /// The most sessions remembered for affinity; the least recently used is forgotten first.
    static let affinityCapacity = 10_000
    /// The share of latency-based choices that go to a random deployment, so a slow one that recovered
    /// is noticed.
    static let explorationShare = 0.1

    private struct State {
        var deployments: [String: DeploymentLoad] = [:]
        var affinity = OrderedDictionary<String, String>()
        var random: any RandomNumberGenerator
    }

    /// What the router knows of one deployment.
    private struct DeploymentLoad {
        var health = DeploymentHealth()
        var inFlight = 0
        /// Recent time to first content, in seconds (an exponentially weighted average).
        var latency: Double?
        var window = MinuteWindow()
        /// Why it last failed, to answer 429 rather than 529 when a group cools from rate limits.
        var lastFailure: FailureClass?
    }

    /// Requests and tokens in the current minute, for `rpm` and `tpm`.
    private struct MinuteWindow {
        var start: ContinuousClock.Instant?
        var requests = 0
        var tokens = 0

        mutating func roll(at now: ContinuousClock.Instant) {
            if let start, now - start < .seconds(60) { return }
            self = MinuteWindow(start: now)
        }

        func isFull(rpm: Int?, tpm: Int?) -> Bool {
            (rpm.map { self.requests >= $0 } ?? false) || (tpm.map { self.tokens >= $0 } ?? false)
        }

        var end: ContinuousClock.Instant? { self.start.map { $0 + .seconds(60) } }
    }

    /// The router's choice for one attempt.
    public enum Choice: Sendable {
        case deployment(ModelDeployment)
        /// No deployment of the group can take a request before `retryAt`; `kind` is `rateLimit` when
        /// rate limits or capacity are why, else `serverError`.
        case unavailable(retryAt: ContinuousClock.Instant?, kind: FailureClass)
    }

    public init(
        clock: @escaping Clock = { ContinuousClock.now },
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        onCooldown: @escaping @Sendable (_ group: String, _ deployment: String, _ length: Duration) -> Void = { _, _, _ in }
    ) {
        self.now = clock
        self.state = Mutex(State(random: random))
        self.onCooldown = onCooldown
    }

    /// The time on the router's clock.
    var currentTime: ContinuousClock.Instant { self.now() }

    /// Chooses a deployment of `group` for the next attempt and counts the request against it. Deployments
    /// in `tried` (this request's earlier attempts) come last, so a retry goes elsewhere when it can; those
    /// in `exhausted` (their `max_retries` used up) are not chosen.
    func choose(
        in group: ModelGroup,
        strategy: RouterSettings.Strategy,
        session: String?,
        avoiding tried: Set<String> = [],
        excluding exhausted: Set<String> = []
    ) -> Choice {
        let now = self.now()
        return self.state.withLock { state in
            var open: [ModelDeployment] = []
            var retryAt: ContinuousClock.Instant?
            var rateLimited = true
            for deployment in group.deployments where !exhausted.contains(deployment.routingKey) {
                var load = state.deployments[deployment.routingKey] ?? DeploymentLoad()
                load.window.roll(at: now)
                state.deployments[deployment.routingKey] = load
                switch load.health.availability(at: now) {
                case .unavailable(let until):
                    if let until { retryAt = min(retryAt ?? until, until) }
                    if load.lastFailure != .rateLimit { rateLimited = false }
                case .available, .probe:
                    if load.window.isFull(rpm: deployment.rpm, tpm: deployment.tpm) {
                        if let end = load.window.end { retryAt = min(retryAt ?? end, end) }
                    } else {
                        open.append(deployment)
                    }
                }
            }
            guard !open.isEmpty else {
                return .unavailable(retryAt: retryAt, kind: rateLimited ? .rateLimit : .serverError)
            }
            let fresh = open.filter { !tried.contains($0.routingKey) }
            let pool = fresh.isEmpty ? open : fresh
            let chosen: ModelDeployment
            if let session, let key = state.affinity[session], let sticky = pool.first(where: { $0.routingKey == key }) {
                chosen = sticky
            } else {
                chosen = Self.pick(from: pool, strategy: strategy, state: &state)
            }
            state.deployments[chosen.routingKey]!.health.requestStarted(at: now)
            state.deployments[chosen.routingKey]!.inFlight += 1
            state.deployments[chosen.routingKey]!.window.requests += 1
            return .deployment(chosen)
        }
    }

    private static func pick(
        from pool: [ModelDeployment],
        strategy: RouterSettings.Strategy,
        state: inout State
    ) -> ModelDeployment {
        guard pool.count > 1 else { return pool[0] }
        switch strategy {
        case .simpleShuffle:
            let weights = pool.map { Double($0.weight ?? Double($0.rpm ?? $0.tpm ?? 1)) }
            let total = weights.reduce(0, +)
            guard total > 0 else { return pool.randomElement(using: &state.random)! }
            var point = Double.random(in: 0..<total, using: &state.random)
            for (deployment, weight) in zip(pool, weights) {
                if point < weight { return deployment }
                point -= weight
            }
            return pool[pool.count - 1]
        case .leastBusy:
            let fewest = pool.map { state.deployments[$0.routingKey]?.inFlight ?? 0 }.min()!
            let least = pool.filter { (state.deployments[$0.routingKey]?.inFlight ?? 0) == fewest }
            return least.randomElement(using: &state.random)!
        case .latencyBased:
            let unmeasured = pool.filter { state.deployments[$0.routingKey]?.latency == nil }
            if !unmeasured.isEmpty { return unmeasured.randomElement(using: &state.random)! }
            if Double.random(in: 0..<1, using: &state.random) < Self.explorationShare {
                return pool.randomElement(using: &state.random)!
            }
            return pool.min { state.deployments[$0.routingKey]!.latency! < state.deployments[$1.routingKey]!.latency! }!
        }
    }

    /// A random duration from zero up to `ceiling`: full jitter for backoff.
    func jitter(upTo ceiling: Duration) -> Duration {
        guard ceiling > .zero else { return .zero }
        let fraction = self.state.withLock { Double.random(in: 0...1, using: &$0.random) }
        return ceiling * fraction
    }

    /// The attempt on `deployment` got its answer going: `firstContent` after it was sent.
    func succeeded(_ deployment: ModelDeployment, session: String?, firstContent: Duration?) {
        self.state.withLock { state in
            var load = state.deployments[deployment.routingKey] ?? DeploymentLoad()
            if let seconds = firstContent?.seconds {
                load.latency = load.latency.map { 0.7 * $0 + 0.3 * seconds } ?? seconds
            }
            load.health.succeeded()
            state.deployments[deployment.routingKey] = load
            if let session {
                state.affinity.removeValue(forKey: session)
                state.affinity[session] = deployment.routingKey
                if state.affinity.count > Self.affinityCapacity { state.affinity.removeFirst() }
            }
        }
    }

    /// The attempt on `deployment` failed; returns how long the deployment now cools down, if it does.
    /// A deployment that is the only way to its group (`mayCool` false: one deployment, no fallback) never
    /// cools, as in LiteLLM: skipping it would only turn its errors into the gateway's own.
    @discardableResult
    func failed(
        _ deployment: ModelDeployment,
        group: String,
        failure: AttemptFailure,
        settings: RouterSettings,
        mayCool: Bool = true
    ) -> Duration? {
        let now = self.now()
        let transition = self.state.withLock { state -> DeploymentHealth.Transition in
            var load = state.deployments[deployment.routingKey] ?? DeploymentLoad()
            guard failure.kind.countsAgainstDeployment, mayCool else {
                load.health.abandoned()
                state.deployments[deployment.routingKey] = load
                return .none
            }
            load.lastFailure = failure.kind
            let transition = load.health.failed(
                at: now,
                allowedFails: settings.allowedFails(for: failure.kind),
                cooldown: settings.cooldownTime,
                retryAfter: failure.kind == .rateLimit ? failure.retryAfter : nil
            )
            state.deployments[deployment.routingKey] = load
            return transition
        }
        guard case .cooledDown(let length) = transition else { return nil }
        self.onCooldown(group, deployment.name, length)
        return length
    }

    /// The attempt ended saying nothing about the deployment (the client went away).
    func abandoned(_ deployment: ModelDeployment) {
        self.state.withLock { state in state.deployments[deployment.routingKey]?.health.abandoned() }
    }

    /// The request that went to `deployment` is over: it leaves the in-flight count, and its tokens count
    /// against the deployment's `tpm`.
    func released(_ deployment: ModelDeployment, tokens: Int) {
        self.state.withLock { state in
            guard var load = state.deployments[deployment.routingKey] else { return }
            load.inFlight = max(0, load.inFlight - 1)
            load.window.tokens += tokens
            state.deployments[deployment.routingKey] = load
        }
    }

    /// Each deployment's phase now, and when a cooling one comes back.
    public func health(of groups: [ModelGroup]) -> [DeploymentStatus] {
        let now = self.now()
        return self.state.withLock { state in
            groups.flatMap { group in
                group.deployments.map { deployment in
                    let health = state.deployments[deployment.routingKey]?.health ?? DeploymentHealth()
                    var until: ContinuousClock.Instant?
                    if case .unavailable(let end) = health.availability(at: now) { until = end }
                    return DeploymentStatus(
                        group: group.name,
                        deployment: deployment.name,
                        phase: health.phase(at: now),
                        secondsUntilRetry: until.map { max(0, ($0 - now).seconds) }
                    )
                }
            }
        }
    }
}

/// A deployment's health as `/health/ready` and `switchboard_deployment_state` report it.
public struct DeploymentStatus: Sendable {
    public let group: String
    public let deployment: String
    let phase: DeploymentHealth.Phase
    /// While cooling: seconds until it takes requests again.
    public let secondsUntilRetry: Double?

    public var phaseName: String { self.phase.rawValue }
    public var isHealthy: Bool { self.phase != .cooling }
}
