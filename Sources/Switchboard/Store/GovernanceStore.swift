import Foundation

/// Where keys, teams and their spend live: the one narrow interface the gateway's governance uses, so that
/// a second backend (PostgreSQL, for several replicas) is an addition, not a rewrite.
///
/// Calls are asynchronous, since a networked database (PostgreSQL, issue 17) must not block a thread; the
/// gateway makes none on a request's path (records are cached, spend is written in batches off it).
protocol GovernanceStore: Sendable {
    func insertTeam(_ team: TeamRecord) async throws
    /// Replaces the team with `team.teamID` but for its spend, which only ``record(_:)`` changes; false
    /// when there is none.
    func updateTeam(_ team: TeamRecord) async throws -> Bool
    /// Deletes the team; its keys stay, without a team. False when there is none.
    func deleteTeam(id: String) async throws -> Bool
    func team(id: String) async throws -> TeamRecord?
    func teams() async throws -> [TeamRecord]

    func insertKey(_ key: KeyRecord) async throws
    /// Replaces the key with `key.tokenHash` but for its spend, which only ``record(_:)`` changes; false
    /// when there is none.
    func updateKey(_ key: KeyRecord) async throws -> Bool
    /// Moves the key with `hash` to a new secret (`newHash`, `newName`), keeping everything else; false when
    /// there is none.
    func rekey(hash: String, to newHash: String, name newName: String, at time: Date) async throws -> Bool
    func deleteKey(hash: String) async throws -> Bool
    func key(hash: String) async throws -> KeyRecord?
    func keys() async throws -> [KeyRecord]

    /// Writes `batch` in one transaction: all of it or none.
    func record(_ batch: SpendBatch) async throws
    /// What the gateway as a whole has spent in its budget period (`litellm_settings.max_budget`).
    func gatewaySpend() async throws -> GatewaySpend
    /// The spend log's rows matching `filter`, newest first, at most `limit`.
    func spendLogs(_ filter: SpendLogFilter, limit: Int) async throws -> [SpendLogRow]
    /// The spend log summed per day, key, team, user and model.
    func spendReport(_ filter: SpendReportFilter) async throws -> [SpendReportRow]
    /// Deletes the spend log's rows that started before `time` (`spend_log_retention_days`); returns how many.
    func deleteSpendLogs(before time: Date) async throws -> Int
}

/// The gateway's own spend in its budget period, and when that period ends.
struct GatewaySpend: Sendable, Hashable {
    var spend: Double
    var resetAt: Date?
}

/// Why the store refused a change (a duplicate alias, an unknown team): a client error for the admin API.
struct GovernanceStoreConflict: Error, CustomStringConvertible {
    let description: String
}
