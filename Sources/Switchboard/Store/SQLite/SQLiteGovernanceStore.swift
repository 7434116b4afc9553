import CSQLite
import Foundation
import Synchronization

/// The embedded ``GovernanceStore``: one SQLite file, created and migrated when opened. One connection,
/// used under a lock: the store's calls are few and short (the request path makes none).
final class SQLiteGovernanceStore: GovernanceStore {
    let connection: Mutex<SQLiteConnection>

    /// Opens (creating and migrating when needed) the database at `path`.
    init(path: String) throws {
        let connection = try SQLiteConnection(path: path)
        try StoreMigrations.migrate(connection)
        self.connection = Mutex(connection)
    }

    // MARK: - Teams

    func insertTeam(_ team: TeamRecord) throws {
        try self.write(conflict: "team_id \(team.teamID) exists already") { connection in
            try connection.run(
                "INSERT INTO teams (\(Self.teamColumns)) VALUES (\(Self.placeholders(Self.teamColumns)))",
                Self.values(of: team)
            )
        }
    }

    func updateTeam(_ team: TeamRecord) throws -> Bool {
        try self.write(conflict: "") { connection in
            let assignments = Self.assignments(Self.teamColumns, except: Self.batchOwnedColumns)
            return try connection.run("UPDATE teams SET \(assignments) WHERE team_id = ?1", Self.values(of: team)) > 0
        }
    }

    func deleteTeam(id: String) throws -> Bool {
        try self.connection.withLock { try $0.run("DELETE FROM teams WHERE team_id = ?1", [.text(id)]) > 0 }
    }

    func team(id: String) throws -> TeamRecord? {
        try self.connection.withLock { try $0.query("SELECT * FROM teams WHERE team_id = ?1", [.text(id)]) }
            .first.map(Self.team(from:))
    }

    func teams() throws -> [TeamRecord] {
        try self.connection.withLock { try $0.query("SELECT * FROM teams ORDER BY created_at, team_id") }
            .map(Self.team(from:))
    }

    // MARK: - Keys

    func insertKey(_ key: KeyRecord) throws {
        try self.write(conflict: "a key with key_alias \(key.alias ?? "") exists already") { connection in
            try Self.checkTeam(of: key, on: connection)
            try connection.run(
                "INSERT INTO keys (\(Self.keyColumns)) VALUES (\(Self.placeholders(Self.keyColumns)))",
                Self.values(of: key)
            )
        }
    }

    func updateKey(_ key: KeyRecord) throws -> Bool {
        try self.write(conflict: "a key with key_alias \(key.alias ?? "") exists already") { connection in
            try Self.checkTeam(of: key, on: connection)
            let assignments = Self.assignments(Self.keyColumns, except: Self.batchOwnedColumns)
            return try connection.run("UPDATE keys SET \(assignments) WHERE token_hash = ?1", Self.values(of: key)) > 0
        }
    }

    func rekey(hash: String, to newHash: String, name newName: String, at time: Date) throws -> Bool {
        try self.connection.withLock {
            try $0.run(
                "UPDATE keys SET token_hash = ?2, key_name = ?3, updated_at = ?4 WHERE token_hash = ?1",
                [.text(hash), .text(newHash), .text(newName), .real(time.timeIntervalSince1970)]
            ) > 0
        }
    }

    func deleteKey(hash: String) throws -> Bool {
        try self.connection.withLock { try $0.run("DELETE FROM keys WHERE token_hash = ?1", [.text(hash)]) > 0 }
    }

    func key(hash: String) throws -> KeyRecord? {
        try self.connection.withLock { try $0.query("SELECT * FROM keys WHERE token_hash = ?1", [.text(hash)]) }
            .first.map(Self.key(from:))
    }

    func keys() throws -> [KeyRecord] {
        try self.connection.withLock { try $0.query("SELECT * FROM keys ORDER BY created_at, token_hash") }
            .map(Self.key(from:))
    }

    // MARK: - Rows

    /// Runs `body`; a uniqueness violation becomes a ``GovernanceStoreConflict`` saying `conflict`.
    private func write<Value>(conflict: String, _ body: (SQLiteConnection) throws -> Value) throws -> Value {
        try self.connection.withLock { connection in
            do {
                return try body(connection)
            } catch let error as SQLiteError where error.code == SQLITE_CONSTRAINT {
                throw GovernanceStoreConflict(description: conflict.isEmpty ? error.message : conflict)
            }
        }
    }

    private static func checkTeam(of key: KeyRecord, on connection: SQLiteConnection) throws {
        guard let teamID = key.teamID else { return }
        guard try !connection.query("SELECT 1 AS found FROM teams WHERE team_id = ?1", [.text(teamID)]).isEmpty else {
            throw GovernanceStoreConflict(description: "team_id \(teamID) names no team")
        }
    }

    private static let limitColumns = "max_budget, budget_duration, budget_reset_at, spend, rpm_limit, tpm_limit, max_parallel_requests"
    private static let teamColumns =
        "team_id, team_alias, models, \(limitColumns), blocked, metadata, source, created_at, updated_at"
    private static let keyColumns =
        "token_hash, key_name, key_alias, user_id, team_id, models, \(limitColumns), expires, blocked, metadata, source, created_at, updated_at"

    private static func names(_ columns: String) -> [Substring] {
        columns.split(separator: ",").map { $0.drop { $0 == " " } }
    }

    static func placeholders(_ columns: String) -> String {
        (1...Self.names(columns).count).map { "?\($0)" }.joined(separator: ", ")
    }

    /// `column = ?n` for every column but the first, which the WHERE clause names as `?1`, and those in `except`.
    private static func assignments(_ columns: String, except: Set<Substring>) -> String {
        Self.names(columns).enumerated().dropFirst().filter { !except.contains($1) }.map { "\($1) = ?\($0 + 1)" }
            .joined(separator: ", ")
    }

    /// Columns an update leaves alone: spend changes only through ``record(_:)``, whose batches an update
    /// must not overwrite (the cache's spend includes what is not written yet), and a row's creation time.
    private static let batchOwnedColumns: Set<Substring> = ["spend", "created_at"]

    private static func values(of limits: SpendLimits, spend: Double) -> [SQLiteValue] {
        [
            SQLiteValue(limits.maxBudget), SQLiteValue(limits.budgetDuration?.description),
            SQLiteValue(limits.budgetResetAt?.timeIntervalSince1970), .real(spend), SQLiteValue(limits.rpmLimit),
            SQLiteValue(limits.tpmLimit), SQLiteValue(limits.maxParallelRequests),
        ]
    }

    private static func values(of team: TeamRecord) -> [SQLiteValue] {
        [.text(team.teamID), SQLiteValue(team.alias), .text(Self.json(team.models))]
            + Self.values(of: team.limits, spend: team.spend)
            + [
                .integer(team.blocked ? 1 : 0), .text(team.metadata.jsonText), .text(team.source.rawValue),
                .real(team.createdAt.timeIntervalSince1970),
                .real(team.updatedAt.timeIntervalSince1970),
            ]
    }

    private static func values(of key: KeyRecord) -> [SQLiteValue] {
        [
            .text(key.tokenHash), .text(key.keyName), SQLiteValue(key.alias), SQLiteValue(key.userID), SQLiteValue(key.teamID),
            .text(Self.json(key.models)),
        ]
            + Self.values(of: key.limits, spend: key.spend)
            + [
                SQLiteValue(key.expires?.timeIntervalSince1970), .integer(key.blocked ? 1 : 0), .text(key.metadata.jsonText),
                .text(key.source.rawValue), .real(key.createdAt.timeIntervalSince1970), .real(key.updatedAt.timeIntervalSince1970),
            ]
    }

    private static func limits(from row: SQLiteRow) -> SpendLimits {
        SpendLimits(
            maxBudget: row.double("max_budget"),
            budgetDuration: row.string("budget_duration").flatMap(BudgetDuration.init),
            budgetResetAt: row.double("budget_reset_at").map(Date.init(timeIntervalSince1970:)),
            rpmLimit: row.int("rpm_limit"),
            tpmLimit: row.int("tpm_limit"),
            maxParallelRequests: row.int("max_parallel_requests")
        )
    }

    private static func team(from row: SQLiteRow) -> TeamRecord {
        TeamRecord(
            teamID: row.string("team_id") ?? "",
            alias: row.string("team_alias"),
            models: Self.strings(row.string("models")),
            limits: Self.limits(from: row),
            spend: row.double("spend") ?? 0,
            blocked: row.int("blocked") == 1,
            metadata: Self.object(row.string("metadata")),
            source: row.string("source").flatMap(RecordSource.init(rawValue:)) ?? .api,
            createdAt: Date(timeIntervalSince1970: row.double("created_at") ?? 0),
            updatedAt: Date(timeIntervalSince1970: row.double("updated_at") ?? 0)
        )
    }

    private static func key(from row: SQLiteRow) -> KeyRecord {
        KeyRecord(
            tokenHash: row.string("token_hash") ?? "",
            keyName: row.string("key_name") ?? "",
            alias: row.string("key_alias"),
            userID: row.string("user_id"),
            teamID: row.string("team_id"),
            models: Self.strings(row.string("models")),
            limits: Self.limits(from: row),
            spend: row.double("spend") ?? 0,
            expires: row.double("expires").map(Date.init(timeIntervalSince1970:)),
            blocked: row.int("blocked") == 1,
            metadata: Self.object(row.string("metadata")),
            source: row.string("source").flatMap(RecordSource.init(rawValue:)) ?? .api,
            createdAt: Date(timeIntervalSince1970: row.double("created_at") ?? 0),
            updatedAt: Date(timeIntervalSince1970: row.double("updated_at") ?? 0)
        )
    }

    private static func json(_ strings: [String]) -> String {
        JSONValue.array(strings.map { .string($0) }).jsonText
    }

    private static func strings(_ text: String?) -> [String] {
        guard let text, case .array(let items)? = try? JSONValue.parse(text) else { return [] }
        return items.compactMap(\.stringValue)
    }

    private static func object(_ text: String?) -> JSONValue {
        text.flatMap { try? JSONValue.parse($0) } ?? .object([:])
    }
}
