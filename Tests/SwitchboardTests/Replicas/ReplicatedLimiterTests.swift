import Foundation
import Logging
import Synchronization
import Testing

@testable import Switchboard

/// A stand-in for the shared store's counters: counts admissions against one rpm limit, or fails while `down`.
private final class FakeCoordinator: ReplicaCoordinator {
    struct Failure: Error {}
    struct State {
        var down = false
        var admitted = 0
        var calls = 0
        var released: [SharedSlot] = []
    }

    let state = Mutex(State())

    func admit(_ scopes: [LimitedScope], reserve tokens: Int) async throws -> SharedAdmission {
        try self.state.withLock { state in
            state.calls += 1
            if state.down { throw Failure() }
            if let most = scopes[0].limits.rpmLimit, state.admitted >= most { return .refused(index: 0, limit: "rpm", inFlight: 0) }
            state.admitted += 1
            return .admitted(SharedSlot(scopes: scopes.map(\.sharedName), minute: 1, reservedTokens: tokens))
        }
    }

    func release(_ slot: SharedSlot, used tokens: Int) async throws {
        try self.state.withLock { state in
            if state.down { throw Failure() }
            state.released.append(slot)
        }
    }

    func synchronize() async throws -> SharedState {
        if self.state.withLock(\.down) { throw Failure() }
        return SharedState(keySpend: [:], teamSpend: [:], gatewaySpend: 0, version: 0, liveReplicas: 3)
    }

    func awaitChanges(_ onChange: @Sendable () async -> Void) async throws {}
    func reconnect() async throws {}
    func prune() async throws {}
}

@Suite("Rate limits across replicas: the shared counters while the store answers, on_store_failure while it does not")
struct ReplicatedLimiterTests {
    static let scopes = [
        LimitedScope(scope: .init(kind: .key, id: "hash", label: "alice"), limits: SpendLimits(rpmLimit: 6, maxParallelRequests: 3))
    ]

    private func limiter(_ policy: StoreFailurePolicy) -> (ReplicatedLimiter, FakeCoordinator) {
        let coordinator = FakeCoordinator()
        let limiter = ReplicatedLimiter(
            coordinator: coordinator, policy: policy, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        limiter.synchronized(liveReplicas: 3)
        return (limiter, coordinator)
    }

    @Test("while the store answers it counts: its refusal is the 429 a single replica gives")
    func sharedCounting() async throws {
        let (limiter, coordinator) = self.limiter(.local)
        for _ in 0..<6 {
            guard case .shared = try await limiter.admit(Self.scopes, reserve: 10, now: Date()) else {
                Issue.record("counted elsewhere than in the store")
                return
            }
        }
        do {
            _ = try await limiter.admit(Self.scopes, reserve: 10, now: Date())
            Issue.record("the seventh request of the minute was admitted")
        } catch {
            #expect(error.error.statusCode == 429)
            #expect(error.error.message == "key alice reached its rpm_limit of 6 requests a minute")
            #expect(error.error.headers["anthropic-ratelimit-requests-limit"] == "6")
        }
        #expect(coordinator.state.withLock(\.admitted) == 6)
    }

    @Test("local: the store down, each replica enforces its share (6 ÷ 3 live replicas = 2) and stops asking the store")
    func localShare() async throws {
        let (limiter, coordinator) = self.limiter(.local)
        coordinator.state.withLock { $0.down = true }
        let now = Date()
        let first = try await limiter.admit(Self.scopes, reserve: 0, now: now)
        #expect(first == .memory && !limiter.isStoreUp)
        // max_parallel_requests 3 ÷ 3 = 1: a second request while the first runs is refused.
        await #expect(throws: KeyRefusal.self) { try await limiter.admit(Self.scopes, reserve: 0, now: now) }
        limiter.release(first, scopes: Self.scopes, tokens: 0, now: now)
        let second = try await limiter.admit(Self.scopes, reserve: 0, now: now)
        limiter.release(second, scopes: Self.scopes, tokens: 0, now: now)
        // rpm_limit 6 ÷ 3 = 2: the third of the minute is refused.
        await #expect(throws: KeyRefusal.self) { try await limiter.admit(Self.scopes, reserve: 0, now: now) }
        #expect(coordinator.state.withLock(\.calls) == 1, "once down, requests do not wait on the store")
    }

    @Test("fail_closed: a 503 naming the setting; fail_open: admitted and counted nowhere")
    func closedAndOpen() async throws {
        let (closed, closedStore) = self.limiter(.failClosed)
        closedStore.state.withLock { $0.down = true }
        do {
            _ = try await closed.admit(Self.scopes, reserve: 0, now: Date())
            Issue.record("fail_closed admitted a request with the store down")
        } catch {
            #expect(error.error.statusCode == 503 && error.error.message.contains("fail_closed"))
            #expect(error.kind == .limit(scope: "store", kind: "unavailable"))
        }
        let (open, openStore) = self.limiter(.failOpen)
        openStore.state.withLock { $0.down = true }
        for _ in 0..<10 { #expect(try await open.admit(Self.scopes, reserve: 0, now: Date()) == .uncounted) }
    }

    @Test("a release the store missed is sent again when it answers; degraded time is counted")
    func releasesAreRetried() async throws {
        let (limiter, coordinator) = self.limiter(.local)
        let admission = try await limiter.admit(Self.scopes, reserve: 5, now: Date())
        coordinator.state.withLock { $0.down = true }
        limiter.release(admission, scopes: Self.scopes, tokens: 7, now: Date())
        while limiter.isStoreUp { try await Task.sleep(for: .milliseconds(1)) }
        #expect(coordinator.state.withLock(\.released).isEmpty)
        try await Task.sleep(for: .milliseconds(20))
        #expect(limiter.degradedSeconds() >= 0.02)
        coordinator.state.withLock { $0.down = false }
        try await limiter.retryReleases()
        limiter.synchronized(liveReplicas: 3)
        #expect(limiter.isStoreUp)
        #expect(coordinator.state.withLock(\.released).count == 1)
        let before = limiter.degradedSeconds()
        try await Task.sleep(for: .milliseconds(20))
        #expect(limiter.degradedSeconds() == before, "the clock stops when the store is back")
    }

    @Test("the store's health: one action on entering degraded mode and one on leaving, never repeated")
    func healthTransitions() {
        var health = StoreHealth()
        let start = ContinuousClock.now
        #expect(health.failed("refused", at: start) == .enteredDegradedMode(reason: "refused"))
        #expect(health.failed("refused again", at: start + .seconds(1)) == .none)
        #expect(health.degradedSeconds(at: start + .seconds(2)) == 2)
        #expect(health.succeeded(at: start + .seconds(3)) == .leftDegradedMode(downFor: .seconds(3)))
        #expect(health.succeeded(at: start + .seconds(4)) == .none)
        #expect(health.degradedSeconds(at: start + .seconds(10)) == 3)
    }

    @Test("limits shared among replicas: each gets its part, never less than 1")
    func share() {
        let limits = SpendLimits(rpmLimit: 60, tpmLimit: 1_000, maxParallelRequests: 2)
        #expect(limits.share(of: 3) == SpendLimits(rpmLimit: 20, tpmLimit: 333, maxParallelRequests: 1))
        #expect(limits.share(of: 1) == limits)
    }
}

@Suite("Spend writes, deadlines and the PostgreSQL migrations' statements")
struct SharedStoreMechanicsTests {
    @Test("a failed batch is written again as it was, before anything newer; a second caller waits its turn")
    func spendWrite() {
        var write = SpendWrite.idle
        var pending = SpendBatch()
        #expect(write.next(pending: &pending).isDone)
        pending.gatewaySpend = 1
        guard case .write(let first) = write.next(pending: &pending) else {
            Issue.record("nothing to write")
            return
        }
        #expect(pending.isEmpty && first.gatewaySpend == 1)
        #expect(write.next(pending: &pending).isWait, "one write at a time")
        write.failed()
        pending.gatewaySpend = 2
        guard case .write(let again) = write.next(pending: &pending) else {
            Issue.record("the failed batch was dropped")
            return
        }
        #expect(again.id == first.id && again.gatewaySpend == 1 && pending.gatewaySpend == 2)
        write.written()
        guard case .write(let next) = write.next(pending: &pending) else {
            Issue.record("the newer spend was dropped")
            return
        }
        #expect(next.id != first.id && next.gatewaySpend == 2)
    }

    @Test("a deadline answers without waiting for an operation that ignores cancellation")
    func deadline() async throws {
        let gate = Gate()
        let finished = Mutex(false)
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(20), what: "a stuck call") {
                // Ignores cancellation, as a database call on a dropped connection was seen to.
                await gate.wait()
                finished.withLock { $0 = true }
            }
        }
        #expect(!finished.withLock { $0 }, "the deadline answered while the operation was still running")
        gate.open()
        #expect(try await withDeadline(.seconds(30), what: "a quick call") { 42 } == 42)
    }

    @Test("migrations split into single statements, function bodies whole")
    func migrationStatements() {
        let statements = PostgresMigrations.all.flatMap(PostgresMigrations.statements(of:))
        #expect(statements.allSatisfy { !$0.isEmpty && !$0.hasPrefix("--") })
        let functions = statements.filter { $0.hasPrefix("CREATE FUNCTION") }
        #expect(functions.count == 2)
        #expect(functions.allSatisfy { $0.hasSuffix("END $$;") })
        #expect(statements.contains("CREATE INDEX keys_team ON keys(team_id);"))
        #expect(statements.contains { $0.contains("spend DOUBLE PRECISION NOT NULL DEFAULT 0") })
        #expect(!statements.contains { $0.contains(" REAL") || $0.contains("INTEGER ") }, "SQLite's types, translated")
    }
}

extension SpendWrite.Action {
    var isDone: Bool { if case .done = self { true } else { false } }
    var isWait: Bool { if case .wait = self { true } else { false } }
}

/// A wait that ends only when the test opens it.
private final class Gate: Sendable {
    private struct State {
        var opened = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func wait() async {
        await withCheckedContinuation { continuation in
            let opened = self.state.withLock { state in
                if !state.opened { state.waiter = continuation }
                return state.opened
            }
            if opened { continuation.resume() }
        }
    }

    func open() {
        let waiter = self.state.withLock { state in
            state.opened = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
