import Foundation
import Logging
import Synchronization

/// The virtual keys and teams the gateway answers to, cached from the ``GovernanceStore``: a request's key
/// is checked here, never in the database. Every change made through the directory goes to the store and
/// the cache together, so the next request sees it.
///
/// Spend is known only once an answer is priced: each finished request adds its cost to its key's and
/// team's spend here at once, and to a pending ``SpendBatch`` that ``flush()`` writes (every 100 ms while
/// serving, and at shutdown). A budget is checked when a request comes, so requests already in flight
/// when it is reached may overshoot it by their own cost.
///
/// With several replicas on PostgreSQL (``replicas``), rate limits are counted in the database, and each
/// round also reads back every replica's spend and the keys another replica changed
/// (``synchronize()``, docs/deployment.md).
public final class KeyDirectory: ExchangeObserver {
    let store: any GovernanceStore
    let cache: Mutex<Snapshot>
    /// One replica alone counts its rate limits here.
    private let limiter = UsageLimiter()
    /// Several replicas count them in the shared store (nil on SQLite).
    let replicas: ReplicatedLimiter?

    struct Snapshot {
        var keys: [String: KeyRecord] = [:]
        var teams: [String: TeamRecord] = [:]
        /// `litellm_settings.max_budget` and `budget_duration`, with what every request together spent.
        var gateway = GatewayBudget()
        /// Spend, resets and log rows not yet written.
        var pending = SpendBatch()
        /// The batch being written, or whose write failed.
        var writing = SpendWrite.idle
        /// The shared store's `governance_state.version` the keys and teams were last read at.
        var sharedVersion: Int64 = -1
    }

    /// The gateway-wide budget: its limits come from the configuration, its spend and period from the store.
    struct GatewayBudget {
        var limits = SpendLimits()
        var spend = 0.0
    }

    /// How long writing one spend batch may take before it counts as failed.
    static let writeTimeout = Duration.seconds(2)

    /// The directory over the store `configuration.database` names (created and migrated when needed), for
    /// the replica called `instanceID`; nil when the gateway keeps no keys. With `asReplica` false (the command
    /// line's administration) a shared store's keys are changed without joining the replicas' counting.
    public static func open(
        _ configuration: GatewayConfiguration, instanceID: String, logger: Logger, asReplica: Bool = true
    ) async throws -> KeyDirectory? {
        switch configuration.database {
        case nil:
            return nil
        case .sqlite(let path):
            return try await KeyDirectory(databasePath: path)
        case .postgres(let url) where asReplica:
            return try await KeyDirectory(
                postgres: url, poolSize: configuration.governance.databasePoolSize, instanceID: instanceID,
                onStoreFailure: configuration.governance.onStoreFailure, logger: logger
            )
        case .postgres(let url):
            return try await KeyDirectory(store: PostgresGovernanceStore(url: url, poolSize: 2, instanceID: instanceID, logger: logger))
        }
    }

    /// The directory over the SQLite database at `path`, created and migrated when needed.
    public convenience init(databasePath: String) async throws {
        try await self.init(store: SQLiteGovernanceStore(path: databasePath))
    }

    /// The directory over a shared PostgreSQL database, with this replica's name and its fallback for when
    /// the database does not answer; migrates the database when it is behind.
    public convenience init(
        postgres url: PostgresDatabaseURL, poolSize: Int, instanceID: String, onStoreFailure: StoreFailurePolicy, logger: Logger
    ) async throws {
        let store = try await PostgresGovernanceStore(url: url, poolSize: poolSize, instanceID: instanceID, logger: logger)
        let coordinator = try await PostgresReplicaCoordinator(store: store)
        try await self.init(store: store, replicas: ReplicatedLimiter(coordinator: coordinator, policy: onStoreFailure, logger: logger))
        try await self.synchronize()
    }

    init(store: any GovernanceStore, replicas: ReplicatedLimiter? = nil) async throws {
        self.store = store
        self.replicas = replicas
        var snapshot = Snapshot()
        for key in try await store.keys() { snapshot.keys[key.tokenHash] = key }
        for team in try await store.teams() { snapshot.teams[team.teamID] = team }
        let gateway = try await store.gatewaySpend()
        snapshot.gateway.spend = gateway.spend
        snapshot.gateway.limits.budgetResetAt = gateway.resetAt
        self.cache = Mutex(snapshot)
    }

    /// Who `presented` is; a 401 naming why when it is no usable key. The reasons are distinct so a user can
    /// act on them, and none reveals anything about other keys.
    func authenticate(_ presented: String, now: Date = Date()) throws(KeyRefusal) -> KeyIdentity {
        let hash = VirtualKey.hash(presented)
        let found = self.cache.withLock { snapshot -> (KeyRecord, TeamRecord?, GatewayBudget)? in
            Self.restartGatewayBudgetIfDue(&snapshot, now: now)
            guard var key = snapshot.keys[hash] else { return nil }
            if let next = Self.restartBudgetIfDue(of: &key.limits, spend: &key.spend, now: now) {
                snapshot.keys[hash] = key
                snapshot.pending.resets.append(SpendBatch.Reset(scope: .key(hash: hash), next: next))
            }
            guard let teamID = key.teamID, var team = snapshot.teams[teamID] else { return (key, nil, snapshot.gateway) }
            if let next = Self.restartBudgetIfDue(of: &team.limits, spend: &team.spend, now: now) {
                snapshot.teams[teamID] = team
                snapshot.pending.resets.append(SpendBatch.Reset(scope: .team(id: teamID), next: next))
            }
            return (key, team, snapshot.gateway)
        }
        func refuse(_ reason: String, _ message: String) -> KeyRefusal {
            KeyRefusal(kind: .authentication(reason: reason), error: .authentication(message))
        }
        guard let (key, team, gateway) = found else { throw refuse("invalid", "invalid API key") }
        let name = key.displayName
        if let expires = key.expires, expires <= now {
            throw refuse("expired", "API key \(name) expired at \(UTCTime.timestamp(expires))")
        }
        if key.blocked { throw refuse("blocked", "API key \(name) is blocked") }
        if let team, team.blocked { throw refuse("team_blocked", "the team of API key \(name) (\(team.teamID)) is blocked") }
        do {
            try Self.checkBudget(key.limits, spent: key.spend, scope: "key", of: "API key \(name)")
            if let team { try Self.checkBudget(team.limits, spent: team.spend, scope: "team", of: "team \(team.alias ?? team.teamID)") }
            try Self.checkBudget(gateway.limits, spent: gateway.spend, scope: "gateway", of: "the gateway")
        } catch {
            throw error.naming(KeyLabel(alias: name, teamID: key.teamID))
        }
        // A key without its own model list may use its team's.
        let models = key.models.isEmpty ? (team?.models ?? []) : key.models
        var scopes = [
            LimitedScope(
                scope: .init(kind: .key, id: key.tokenHash, label: key.displayName),
                limits: key.limits.inheriting(from: team?.limits ?? SpendLimits())
            )
        ]
        if let team {
            scopes.append(LimitedScope(scope: .init(kind: .team, id: team.teamID, label: team.alias ?? team.teamID), limits: team.limits))
        }
        return KeyIdentity(
            tokenHash: key.tokenHash, keyName: key.keyName, alias: key.alias, teamID: key.teamID, userID: key.userID,
            allowedModels: models, scopes: scopes
        )
    }

    /// The gateway's budget alone, for requests on the master key: spent, it refuses them too.
    func checkGatewayBudget(now: Date = Date()) throws(KeyRefusal) {
        let gateway = self.cache.withLock { snapshot in
            Self.restartGatewayBudgetIfDue(&snapshot, now: now)
            return snapshot.gateway
        }
        try Self.checkBudget(gateway.limits, spent: gateway.spend, scope: "gateway", of: "the gateway")
    }

    /// Sets the gateway-wide budget (`litellm_settings.max_budget`, `budget_duration`), at start and on
    /// every reload. The period runs on from the store's; a new or changed duration starts a new one now.
    func configureGatewayBudget(maxBudget: Double?, duration: BudgetDuration?, now: Date = Date()) {
        self.cache.withLock { snapshot in
            let limits = snapshot.gateway.limits
            snapshot.gateway.limits.maxBudget = maxBudget
            snapshot.gateway.limits.budgetDuration = duration
            guard let duration else {
                snapshot.gateway.limits.budgetResetAt = nil
                return
            }
            let continues = limits.budgetResetAt != nil && (limits.budgetDuration == nil || limits.budgetDuration == duration)
            if continues { return }
            let next = duration.nextReset(after: now)
            snapshot.gateway.limits.budgetResetAt = next
            snapshot.gateway.spend = 0
            snapshot.pending.resets.append(SpendBatch.Reset(scope: .gateway, next: next.timeIntervalSince1970))
        }
    }

    /// Admits a request on `identity` under its key's and team's rate limits, reserving `estimatedTokens` of
    /// their token limits, or throws their 429; returns the identity with where it was counted.
    func admit(_ identity: KeyIdentity, estimatedTokens: Int = 0, now: Date = Date()) async throws(KeyRefusal) -> KeyIdentity {
        var admitted = identity
        do {
            if let replicas = self.replicas {
                admitted.admission = try await replicas.admit(identity.scopes, reserve: estimatedTokens, now: now)
            } else {
                try self.limiter.admit(identity.scopes.map { ($0.scope, $0.limits) }, now: now)
            }
        } catch {
            throw error.naming(identity.label)
        }
        return admitted
    }

    /// A request ended. On a virtual key its slot is freed, its tokens counted, and its cost added to its
    /// key's and team's spend; any priced request counts against the gateway's budget; a Messages request
    /// that was let in (on a virtual key or the master key) gets its spend-log row.
    public func exchangeDidFinish(_ record: ExchangeRecord) {
        let identity = record.virtualKey
        let now = Date()
        if let identity {
            let usage = record.usage
            let tokens = usage.inputTokens + usage.outputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens
            if let replicas = self.replicas {
                replicas.release(identity.admission, scopes: identity.scopes, tokens: tokens, now: now)
            } else {
                self.limiter.release(identity.scopes.map(\.scope), tokens: tokens, now: now)
            }
        }
        let logged = identity != nil || (record.keyRefusal == nil && record.route.hasSuffix("/v1/messages"))
        let row = logged ? Self.logRow(record, identity: identity, endTime: now.timeIntervalSince1970) : nil
        let cost = record.costUSD
        guard cost > 0 || row != nil else { return }
        self.cache.withLock { snapshot in
            if cost > 0 {
                snapshot.gateway.spend += cost
                snapshot.pending.gatewaySpend += cost
            }
            if cost > 0, let identity {
                snapshot.keys[identity.tokenHash]?.spend += cost
                snapshot.pending.keySpend[identity.tokenHash, default: 0] += cost
                if let teamID = identity.teamID {
                    snapshot.teams[teamID]?.spend += cost
                    snapshot.pending.teamSpend[teamID, default: 0] += cost
                }
            }
            if let row { snapshot.pending.logRows.append(row) }
        }
    }

    /// Writes what was spent since the last call, one transaction per batch, then returns; a batch that fails
    /// stays to be written again, as it is, by the next call. Calls made at once (the flush service and a
    /// spend-log read) take turns, so no batch is written twice.
    public func flush() async throws {
        while true {
            switch self.cache.withLock({ $0.writing.next(pending: &$0.pending) }) {
            case .write(let batch):
                do {
                    // A write that hangs fails here and is retried under the same id, which a shared store
                    // writes once even if the first attempt commits after all.
                    let store = self.store
                    try await withDeadline(Self.writeTimeout, what: "writing spend") { try await store.record(batch) }
                    self.cache.withLock { $0.writing.written() }
                } catch {
                    self.cache.withLock { $0.writing.failed() }
                    throw error
                }
            case .wait:
                try await Task.sleep(for: .milliseconds(2))
            case .done:
                return
            }
        }
    }

    private static func restartGatewayBudgetIfDue(_ snapshot: inout Snapshot, now: Date) {
        if let next = Self.restartBudgetIfDue(of: &snapshot.gateway.limits, spend: &snapshot.gateway.spend, now: now) {
            snapshot.pending.resets.append(SpendBatch.Reset(scope: .gateway, next: next))
        }
    }

    /// When a budget's period is over, its spend starts again from 0; returns the next reset (seconds since the
    /// epoch) when it did.
    private static func restartBudgetIfDue(of limits: inout SpendLimits, spend: inout Double, now: Date) -> Double? {
        guard let duration = limits.budgetDuration, let reset = limits.budgetResetAt, now >= reset else { return nil }
        var next = duration.nextReset(after: reset)
        while next <= now { next = duration.nextReset(after: next) }
        limits.budgetResetAt = next
        spend = 0
        return next.timeIntervalSince1970
    }

    /// A spent budget is a 429 without `retry-after`, as Anthropic answers a spend cap: waiting a little
    /// does not help. The message says what was spent and when the budget starts again.
    private static func checkBudget(_ limits: SpendLimits, spent: Double, scope: String, of owner: String) throws(KeyRefusal) {
        guard let budget = limits.maxBudget, spent >= budget else { return }
        let resets = limits.budgetResetAt.map { "; it resets at \(UTCTime.timestamp($0))" } ?? "; it does not reset"
        let error = AnthropicError(
            status: 429, type: "rate_limit_error",
            message: String(format: "budget exceeded: %@ has spent $%.4f of its max_budget of $%.2f", owner, spent, budget) + resets
        )
        throw KeyRefusal(kind: .limit(scope: scope, kind: "budget"), error: error)
    }

    /// The audit row of a request; on the master key (no `identity`), without key, team or user.
    private static func logRow(_ record: ExchangeRecord, identity: KeyIdentity?, endTime: Double) -> SpendLogRow {
        let attempt = record.upstreamAttempts.last?.target
        return SpendLogRow(
            requestID: record.requestID, startTime: record.startTime, endTime: endTime, keyName: identity?.keyName,
            keyHashPrefix: identity.map { String($0.tokenHash.prefix(12)) }, keyAlias: identity?.alias, teamID: identity?.teamID,
            userID: identity?.userID, modelGroup: record.modelGroup,
            deployment: attempt?.deployment, provider: record.provider?.rawValue, model: record.upstreamModel,
            inputTokens: record.usage.inputTokens, outputTokens: record.usage.outputTokens,
            cacheReadTokens: record.usage.cacheReadInputTokens, cacheWriteTokens: record.usage.cacheCreationInputTokens,
            thinkingTokens: record.thinkingTokens, spend: record.costUSD, status: record.status, errorType: record.errorType,
            sessionID: record.sessionID, durationMS: (record.seconds(from: .received, to: .finished) ?? 0) * 1000,
            attempts: max(1, record.upstreamAttempts.count)
        )
    }
}

/// A scope a request is counted in, with the limits it has there.
struct LimitedScope: Sendable {
    let scope: UsageLimiter.Scope
    let limits: SpendLimits
}

/// What a virtual key lets a request do, as the pipeline needs it (never the key itself).
public struct KeyIdentity: Sendable {
    /// The key's SHA-256, which its spend is kept under; never logged.
    let tokenHash: String
    /// `sk-...abcd`.
    public let keyName: String
    public let alias: String?
    public let teamID: String?
    public let userID: String?
    /// Model names and wildcards the key may use; empty for all.
    public let allowedModels: [String]
    /// The key's and its team's rate limits, which admitted the request.
    let scopes: [LimitedScope]
    /// Where the request was counted, once admitted.
    var admission = Admission.memory

    public var label: KeyLabel { KeyLabel(alias: self.alias ?? self.keyName, teamID: self.teamID) }

    /// Whether the key may ask for `model`, the name the client sent, whose group is in `accessGroups`: its
    /// models list the name, a wildcard matching it, or one of the groups (LiteLLM's access groups).
    func allows(model: String, accessGroups: Set<String>) -> Bool {
        self.allowedModels.isEmpty
            || self.allowedModels.contains { accessGroups.contains($0) || ModelPattern($0).match(model) != nil }
    }
}
