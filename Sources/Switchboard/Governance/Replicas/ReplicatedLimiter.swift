import Foundation
import Logging
import Synchronization

/// Rate limits when several replicas share a store: counted in the store while it answers, so a limit holds
/// across replicas however the load balancer spreads the load; while it does not, ``StoreFailurePolicy``
/// decides. Every store call's outcome moves ``StoreHealth``, whose transitions are logged once each.
final class ReplicatedLimiter: Sendable {
    let coordinator: any ReplicaCoordinator
    let policy: StoreFailurePolicy
    /// How long an admission waits for the store before the request is served by the policy instead.
    let timeout: Duration
    private let logger: Logger
    private let local = UsageLimiter()
    private let health = Mutex(StoreHealth())
    private let liveReplicas = Atomic<Int>(1)
    /// Releases the store did not take (it was down): sent again when it answers, so no slot leaks.
    private let unreleased = Mutex<[(slot: SharedSlot, tokens: Int)]>([])

    init(coordinator: any ReplicaCoordinator, policy: StoreFailurePolicy, timeout: Duration = .seconds(1), logger: Logger) {
        self.coordinator = coordinator
        self.policy = policy
        self.timeout = timeout
        self.logger = logger
    }

    var isStoreUp: Bool { self.health.withLock(\.isUp) }

    func degradedSeconds(at now: ContinuousClock.Instant = .now) -> Double {
        self.health.withLock { $0.degradedSeconds(at: now) }
    }

    /// Admits a request under `scopes`' limits, reserving `tokens` of their token limits; throws the 429 (or,
    /// under `fail_closed` with the store down, the 503) the client gets.
    func admit(_ scopes: [LimitedScope], reserve tokens: Int, now: Date) async throws(KeyRefusal) -> Admission {
        if self.isStoreUp {
            do {
                let coordinator = self.coordinator
                let answer = try await withDeadline(self.timeout, what: "admitting a request in the shared store") {
                    try await coordinator.admit(scopes, reserve: tokens)
                }
                self.storeAnswered()
                switch answer {
                case .admitted(let slot):
                    return .shared(slot)
                case .refused(let index, let limit, let inFlight):
                    throw UsageLimiter.refusal(scopes[index].scope, scopes[index].limits, by: limit, inFlight: inFlight, now: now)
                }
            } catch let refusal as KeyRefusal {
                throw refusal
            } catch {
                self.storeFailed(error, while: "admitting a request")
            }
        }
        switch self.policy {
        case .failClosed:
            let error = AnthropicError(
                status: 503, type: "api_error",
                message: "the gateway's shared store is unreachable and general_settings.on_store_failure is fail_closed; try again shortly",
                headers: ["retry-after": "1"]
            )
            throw KeyRefusal(kind: .limit(scope: "store", kind: "unavailable"), error: error)
        case .failOpen:
            return .uncounted
        case .local:
            let replicas = self.liveReplicas.load(ordering: .relaxed)
            try self.local.admit(scopes.map { ($0.scope, $0.limits.share(of: replicas)) }, now: now)
            return .memory
        }
    }

    /// Ends an admitted request where it was counted. A shared release goes to the store off the request's
    /// path; one the store does not take is kept and sent again by ``retryReleases()``.
    func release(_ admission: Admission, scopes: [LimitedScope], tokens: Int, now: Date) {
        switch admission {
        case .memory:
            self.local.release(scopes.map(\.scope), tokens: tokens, now: now)
        case .uncounted:
            break
        case .shared(let slot):
            Task {
                do {
                    try await self.coordinator.release(slot, used: tokens)
                } catch {
                    self.unreleased.withLock { $0.append((slot, tokens)) }
                    self.storeFailed(error, while: "releasing a request")
                }
            }
        }
    }

    /// What one synchronization read: how many replicas share the limits now.
    func synchronized(liveReplicas: Int) {
        self.liveReplicas.store(max(1, liveReplicas), ordering: .relaxed)
        self.storeAnswered()
    }

    /// Sends the releases the store missed while it was down.
    func retryReleases() async throws {
        let pending = self.unreleased.withLock { pending in
            defer { pending = [] }
            return pending
        }
        for (index, (slot, tokens)) in pending.enumerated() {
            do {
                try await self.coordinator.release(slot, used: tokens)
            } catch {
                self.unreleased.withLock { $0.append(contentsOf: pending[index...]) }
                throw error
            }
        }
    }

    func storeAnswered() {
        let action = self.health.withLock { $0.succeeded(at: .now) }
        if case .leftDegradedMode(let downFor) = action {
            self.logger.notice(
                "shared store reachable again: leaving degraded mode",
                metadata: ["down_seconds": "\(downFor.components.seconds)", "on_store_failure": "\(self.policy.rawValue)"]
            )
        }
    }

    func storeFailed(_ error: any Error, while operation: String) {
        let action = self.health.withLock { $0.failed("\(operation): \(String(reflecting: error))", at: .now) }
        if case .enteredDegradedMode(let reason) = action {
            self.logger.error(
                "shared store unreachable: entering degraded mode",
                metadata: [
                    "on_store_failure": "\(self.policy.rawValue)", "live_replicas": "\(self.liveReplicas.load(ordering: .relaxed))",
                    "error": "\(reason)",
                ]
            )
        }
    }
}

/// How an admitted request was counted, so that it is released where it was.
enum Admission: Sendable, Equatable {
    /// In this process's memory: one replica alone, or the `local` fallback.
    case memory
    /// In the shared store.
    case shared(SharedSlot)
    /// Nowhere: `fail_open` while the store is down.
    case uncounted
}

extension SpendLimits {
    /// These rate limits divided among `replicas` (at least 1 each, so a limit never becomes a ban).
    func share(of replicas: Int) -> SpendLimits {
        guard replicas > 1 else { return self }
        var share = self
        share.rpmLimit = self.rpmLimit.map { max(1, $0 / replicas) }
        share.tpmLimit = self.tpmLimit.map { max(1, $0 / replicas) }
        share.maxParallelRequests = self.maxParallelRequests.map { max(1, $0 / replicas) }
        return share
    }
}
