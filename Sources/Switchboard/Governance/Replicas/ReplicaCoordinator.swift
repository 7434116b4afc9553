import Foundation

/// What replicas on one shared store share beyond its records: rate-limit counters that are exact across them,
/// a heartbeat, and a fresh view of every key's, team's and the gateway's spend. ``PostgresReplicaCoordinator``
/// is the one implementation; a gateway on SQLite has none and counts in memory.
protocol ReplicaCoordinator: Sendable {
    /// Counts a request in every scope or in none (one round trip); throws only when the store cannot answer.
    func admit(_ scopes: [LimitedScope], reserve tokens: Int) async throws -> SharedAdmission
    /// Frees the slots of a request ``admit(_:reserve:)`` let in, and settles its tokens.
    func release(_ slot: SharedSlot, used tokens: Int) async throws
    /// Announces this replica alive and reads what the others changed: spend totals, the number of live
    /// replicas, and the version of the keys and teams (bumped by every change to them).
    func synchronize() async throws -> SharedState
    /// Wakes once per change to a key or team another replica announces (PostgreSQL's LISTEN), until cancelled;
    /// throws when the connection is lost.
    func awaitChanges(_ onChange: @Sendable () async -> Void) async throws
    /// After an outage: returns when the store answers a connection of its own, and makes the connections used
    /// from then on fresh; throws while it does not answer.
    func reconnect() async throws
    /// Deletes counters of minutes long past and batch ids no replica will retry.
    func prune() async throws
}

/// The store's answer to an admission.
enum SharedAdmission: Sendable, Equatable {
    case admitted(SharedSlot)
    /// `index` is the refused scope's position, `limit` `rpm`, `tpm` or `parallel`; `inFlight` its requests running.
    case refused(index: Int, limit: String, inFlight: Int)
}

/// A request counted in the shared counters: which scopes, in which minute, with how many tokens reserved.
struct SharedSlot: Sendable, Equatable {
    let scopes: [String]
    let minute: Int64
    let reservedTokens: Int
}

/// The shared view one synchronization reads.
struct SharedState: Sendable {
    /// US dollars in the current period, as the store holds them (every replica's written batches).
    var keySpend: [String: Double]
    var teamSpend: [String: Double]
    var gatewaySpend: Double
    /// Bumped by every change to a key or team: a new value means reload them.
    var version: Int64
    /// Replicas seen in the last 15 seconds, this one included.
    var liveReplicas: Int
}
