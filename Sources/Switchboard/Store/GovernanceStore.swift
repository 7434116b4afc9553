/// Where keys, teams and their spend live: the one narrow interface the gateway's governance uses, so that
/// a second backend (PostgreSQL, for several replicas) is an addition, not a rewrite.
///
/// Calls are synchronous and quick; the gateway makes none on a request's path (records are cached, spend
/// is written in batches off it).
protocol GovernanceStore: Sendable {
    func insertTeam(_ team: TeamRecord) throws
    /// Replaces the team with `team.teamID`; false when there is none.
    func updateTeam(_ team: TeamRecord) throws -> Bool
    /// Deletes the team; its keys stay, without a team. False when there is none.
    func deleteTeam(id: String) throws -> Bool
    func team(id: String) throws -> TeamRecord?
    func teams() throws -> [TeamRecord]

    func insertKey(_ key: KeyRecord) throws
    /// Replaces the key with `key.tokenHash`; false when there is none.
    func updateKey(_ key: KeyRecord) throws -> Bool
    func deleteKey(hash: String) throws -> Bool
    func key(hash: String) throws -> KeyRecord?
    func keys() throws -> [KeyRecord]

    /// Writes `batch` in one transaction: all of it or none.
    func record(_ batch: SpendBatch) throws
    /// The spend log's rows matching `filter`, newest first, at most `limit`.
    func spendLogs(_ filter: SpendLogFilter, limit: Int) throws -> [SpendLogRow]
}

/// Why the store refused a change (a duplicate alias, an unknown team): a client error for the admin API.
struct GovernanceStoreConflict: Error, CustomStringConvertible {
    let description: String
}
