import Foundation

/// Where keys, teams and their spend live: the one narrow interface the gateway's governance uses, so that
/// a second backend (PostgreSQL, for several replicas) is an addition, not a rewrite.
///
/// Calls are synchronous and quick; the gateway makes none on a request's path (records are cached, spend
/// is written in batches off it).
protocol GovernanceStore: Sendable {
    func insertTeam(_ team: TeamRecord) throws
    /// Replaces the team with `team.teamID` but for its spend, which only ``record(_:)`` changes; false
    /// when there is none.
    func updateTeam(_ team: TeamRecord) throws -> Bool
    /// Deletes the team; its keys stay, without a team. False when there is none.
    func deleteTeam(id: String) throws -> Bool
    func team(id: String) throws -> TeamRecord?
    func teams() throws -> [TeamRecord]

    func insertKey(_ key: KeyRecord) throws
    /// Replaces the key with `key.tokenHash` but for its spend, which only ``record(_:)`` changes; false
    /// when there is none.
    func updateKey(_ key: KeyRecord) throws -> Bool
    /// Moves the key with `hash` to a new secret (`newHash`, `newName`), keeping everything else; false when
    /// there is none.
    func rekey(hash: String, to newHash: String, name newName: String, at time: Date) throws -> Bool
    func deleteKey(hash: String) throws -> Bool
    func key(hash: String) throws -> KeyRecord?
    func keys() throws -> [KeyRecord]

    /// Writes `batch` in one transaction: all of it or none.
    func record(_ batch: SpendBatch) throws
    /// What the gateway as a whole has spent in its budget period (`litellm_settings.max_budget`).
    func gatewaySpend() throws -> GatewaySpend
    /// The spend log's rows matching `filter`, newest first, at most `limit`.
    func spendLogs(_ filter: SpendLogFilter, limit: Int) throws -> [SpendLogRow]
    /// The spend log summed per day, key, team, user and model.
    func spendReport(_ filter: SpendReportFilter) throws -> [SpendReportRow]
    /// Deletes the spend log's rows that started before `time` (`spend_log_retention_days`); returns how many.
    func deleteSpendLogs(before time: Date) throws -> Int
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
