import Synchronization
import SwitchboardTesting
import Testing

@testable import Switchboard

/// A clock tests move by hand, so cooldowns pass without sleeping.
final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { self.instant.withLock { $0 } }
    func advance(by duration: Duration) { self.instant.withLock { $0 += duration } }
}

@Suite("The model router's choices, on a clock moved by hand")
struct ModelRouterTests {
    let clock = ManualClock()

    func router(seed: UInt64 = 1) -> ModelRouter {
        let clock = self.clock
        return ModelRouter(clock: { clock.now }, random: SplitMix64(seed: seed))
    }

    static func group(_ configure: ((inout ModelDeployment, Int) -> Void)? = nil, count: Int = 2) -> ModelGroup {
        let deployments = (0..<count).map { index -> ModelDeployment in
            var deployment = ModelDeployment(modelName: "g", provider: .mock, upstreamModel: "m\(index)")
            deployment.name = "g#\(index + 1)"
            configure?(&deployment, index)
            return deployment
        }
        return ModelGroup(name: "g", deployments: deployments)
    }

    func chosen(_ router: ModelRouter, _ group: ModelGroup, strategy: RouterSettings.Strategy = .simpleShuffle,
                session: String? = nil, avoiding: Set<String> = []) -> String? {
        guard case .deployment(let deployment) = router.choose(in: group, strategy: strategy, session: session, avoiding: avoiding)
        else { return nil }
        router.released(deployment, tokens: 0)
        return deployment.name
    }

    func fail(_ router: ModelRouter, _ deployment: ModelDeployment, _ kind: FailureClass = .serverError,
              retryAfter: Duration? = nil, settings: RouterSettings = RouterSettings()) -> Duration? {
        router.failed(
            deployment, group: "g",
            failure: AttemptFailure(kind: kind, error: .api("x"), retryAfter: retryAfter), settings: settings
        )
    }

    @Test("simple-shuffle follows weight, else rpm; a deployment without either counts as 1")
    func weights() {
        let router = self.router()
        let weighted = Self.group { deployment, index in deployment.weight = index == 0 ? 3 : 1 }
        let picks = (0..<4000).compactMap { _ in self.chosen(router, weighted) }
        let share = Double(picks.filter { $0 == "g#1" }.count) / 4000
        #expect(abs(share - 0.75) < 0.03, "share \(share)")

        let byRPM = Self.group { deployment, index in deployment.rpm = index == 0 ? 1_000_000 : 4_000_000 }
        let rpmShare = Double((0..<4000).compactMap { _ in self.chosen(router, byRPM) }.filter { $0 == "g#2" }.count) / 4000
        #expect(abs(rpmShare - 0.8) < 0.03, "share \(rpmShare)")
    }

    @Test("least-busy sends each request to the deployment with the fewest in flight")
    func leastBusy() {
        let router = self.router()
        let group = Self.group(count: 3)
        var held: [ModelDeployment] = []
        for _ in 0..<3 {
            guard case .deployment(let deployment) = router.choose(in: group, strategy: .leastBusy, session: nil) else {
                Issue.record("nothing chosen")
                return
            }
            held.append(deployment)
        }
        #expect(Set(held.map(\.name)) == ["g#1", "g#2", "g#3"], "one each while all are busy")
        router.released(held[1], tokens: 0)
        #expect(self.chosen(router, group, strategy: .leastBusy) == held[1].name)
    }

    @Test("latency-based routing prefers the deployment with the lowest time to first content, exploring a little")
    func latency() {
        let router = self.router()
        let group = Self.group()
        // Both unmeasured: each is tried before either is preferred.
        router.succeeded(group.deployments[0], session: nil, firstContent: .milliseconds(900))
        router.succeeded(group.deployments[1], session: nil, firstContent: .milliseconds(100))
        let picks = (0..<1000).compactMap { _ in self.chosen(router, group, strategy: .latencyBased) }
        let fast = Double(picks.filter { $0 == "g#2" }.count) / 1000
        #expect(fast > 0.9 && fast < 1, "fast share \(fast): mostly the fast one, never only")
    }

    @Test("a session stays on the deployment that served it while that one is healthy")
    func affinity() {
        let router = self.router()
        let group = Self.group { deployment, index in deployment.weight = index == 0 ? 1000 : 1 }
        router.succeeded(group.deployments[1], session: "s1", firstContent: nil)
        #expect((0..<50).allSatisfy { _ in self.chosen(router, group, session: "s1") == "g#2" })
        _ = self.fail(router, group.deployments[1], .rateLimit, retryAfter: .seconds(30))
        #expect(self.chosen(router, group, session: "s1") == "g#1", "a cooling deployment loses its sessions")
    }

    @Test("more than allowed_fails failures in a minute cool a deployment; after cooldown_time one probe goes through")
    func cooldownAndHalfOpen() {
        let router = self.router()
        let group = Self.group(count: 1)
        let only = group.deployments[0]
        var settings = RouterSettings()
        settings.allowedFails = 1
        settings.cooldownTime = .seconds(10)
        #expect(self.fail(router, only, settings: settings) == nil)
        self.clock.advance(by: .seconds(61))
        #expect(self.fail(router, only, settings: settings) == nil, "a failure a minute old no longer counts")
        #expect(self.fail(router, only, settings: settings) == .seconds(10))
        guard case .unavailable(let retryAt, let kind) = router.choose(in: group, strategy: .simpleShuffle, session: nil) else {
            Issue.record("a cooling deployment was chosen")
            return
        }
        #expect(retryAt == self.clock.now + .seconds(10))
        #expect(kind == .serverError)
        #expect(router.health(of: [group]).first?.phaseName == "cooling")

        self.clock.advance(by: .seconds(10))
        #expect(router.health(of: [group]).first?.phaseName == "half_open")
        guard case .deployment = router.choose(in: group, strategy: .simpleShuffle, session: nil) else {
            Issue.record("the probe was refused")
            return
        }
        guard case .unavailable(nil, _) = router.choose(in: group, strategy: .simpleShuffle, session: nil) else {
            Issue.record("a second request went through while the probe runs")
            return
        }
        router.succeeded(only, session: nil, firstContent: nil)
        #expect(router.health(of: [group]).first?.phaseName == "healthy")
    }

    @Test("a failed probe cools the deployment again")
    func failedProbe() {
        let router = self.router()
        let group = Self.group(count: 1)
        var settings = RouterSettings()
        settings.allowedFails = 0
        settings.cooldownTime = .seconds(5)
        #expect(self.fail(router, group.deployments[0], settings: settings) == .seconds(5))
        self.clock.advance(by: .seconds(5))
        _ = router.choose(in: group, strategy: .simpleShuffle, session: nil)
        #expect(self.fail(router, group.deployments[0], settings: settings) == .seconds(5))
        #expect(router.health(of: [group]).first?.phaseName == "cooling")
    }

    @Test("a 429's Retry-After cools the deployment for that long at once; a group cooling from 429s answers 429")
    func retryAfterCools() {
        let router = self.router()
        let group = Self.group(count: 1)
        #expect(self.fail(router, group.deployments[0], .rateLimit, retryAfter: .seconds(7)) == .seconds(7))
        guard case .unavailable(let retryAt, let kind) = router.choose(in: group, strategy: .simpleShuffle, session: nil) else {
            Issue.record("chosen while cooling")
            return
        }
        #expect(retryAt == self.clock.now + .seconds(7))
        #expect(kind == .rateLimit)
    }

    @Test("client errors never cool a deployment")
    func clientErrorsDoNotCount() {
        let router = self.router()
        let group = Self.group(count: 1)
        var settings = RouterSettings()
        settings.allowedFails = 0
        for kind in [FailureClass.badRequest, .contextWindow, .contentPolicy] {
            #expect(self.fail(router, group.deployments[0], kind, settings: settings) == nil)
        }
        #expect(self.chosen(router, group) == "g#1")
    }

    @Test("a deployment at its rpm is skipped while another has room; when none has, 429 until the minute ends")
    func capacity() {
        let router = self.router()
        let group = Self.group { deployment, index in deployment.rpm = index == 0 ? 2 : 1 }
        var picks: [String] = []
        for _ in 0..<3 { picks += [self.chosen(router, group)].compactMap { $0 } }
        #expect(picks.sorted() == ["g#1", "g#1", "g#2"])
        guard case .unavailable(let retryAt?, .rateLimit) = router.choose(in: group, strategy: .simpleShuffle, session: nil) else {
            Issue.record("a full deployment was chosen")
            return
        }
        #expect(retryAt > self.clock.now && retryAt <= self.clock.now + .seconds(60))
        self.clock.advance(by: .seconds(60))
        #expect(self.chosen(router, group) != nil, "a new minute, new room")
    }

    @Test("tpm counts the tokens of finished requests")
    func tokensPerMinute() {
        let router = self.router()
        let group = Self.group({ deployment, _ in deployment.tpm = 1000 }, count: 1)
        guard case .deployment(let deployment) = router.choose(in: group, strategy: .simpleShuffle, session: nil) else {
            Issue.record("nothing chosen")
            return
        }
        router.released(deployment, tokens: 1200)
        guard case .unavailable(_, .rateLimit) = router.choose(in: group, strategy: .simpleShuffle, session: nil) else {
            Issue.record("chosen past its tpm")
            return
        }
    }

    @Test("a retry goes to a deployment the request has not tried, when one is open")
    func retryElsewhere() {
        let router = self.router()
        let group = Self.group { deployment, index in deployment.weight = index == 0 ? 1000 : 1 }
        let first = group.deployments[0].routingKey
        #expect((0..<20).allSatisfy { _ in self.chosen(router, group, avoiding: [first]) == "g#2" })
        let both: Set = [first, group.deployments[1].routingKey]
        #expect(self.chosen(router, group, avoiding: both) != nil, "all tried: the same again rather than none")
    }
}
