import CSQLite
import Foundation
import Synchronization

/// The embedded ``GovernanceStore``: one SQLite file, created and migrated when opened. One connection,
/// used under a lock: the store's calls are few and short (the request path makes none).
final class SQLiteGovernanceStore: GovernanceStore {
    private let connection: Mutex<SQLiteConnection>

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
            let assignments = Self.assignments(Self.teamColumns)
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
            let assignments = Self.assignments(Self.keyColumns)
            return try connection.run("UPDATE keys SET \(assignments) WHERE token_hash = ?1", Self.values(of: key)) > 0
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

    // MARK: - Spend

    func record(_ batch: SpendBatch) throws {
        guard !batch.isEmpty else { return }
        try self.connection.withLock { connection in
            try connection.transaction {
                for reset in batch.resets {
                    switch reset.scope {
                    case .key(let hash):
                        try connection.run("UPDATE keys SET spend = 0, budget_reset_at = ?2 WHERE token_hash = ?1", [.text(hash), .real(reset.next)])
                    case .team(let id):
                        try connection.run("UPDATE teams SET spend = 0, budget_reset_at = ?2 WHERE team_id = ?1", [.text(id), .real(reset.next)])
                    }
                }
                for (hash, amount) in batch.keySpend {
                    try connection.run("UPDATE keys SET spend = spend + ?2 WHERE token_hash = ?1", [.text(hash), .real(amount)])
                }
                for (id, amount) in batch.teamSpend {
                    try connection.run("UPDATE teams SET spend = spend + ?2 WHERE team_id = ?1", [.text(id), .real(amount)])
                }
                if !batch.logRows.isEmpty {
                    let insert = try connection.prepare(
                        "INSERT OR IGNORE INTO spend_logs (\(Self.logColumns)) VALUES (\(Self.placeholders(Self.logColumns)))"
                    )
                    for row in batch.logRows {
                        try insert.reset()
                        try insert.bind(Self.values(of: row))
                        _ = try insert.step()
                    }
                }
            }
        }
    }

    func spendLogs(_ filter: SpendLogFilter, limit: Int) throws -> [SpendLogRow] {
        var conditions: [String] = []
        var values: [SQLiteValue] = [.integer(Int64(limit))]
        for (column, value) in [
            ("request_id", filter.requestID), ("session_id", filter.sessionID), ("key_name", filter.keyName),
            ("team_id", filter.teamID), ("user_id", filter.userID),
        ] {
            guard let value else { continue }
            values.append(.text(value))
            conditions.append("\(column) = ?\(values.count)")
        }
        let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") + " "
        return try self.connection.withLock {
            try $0.query("SELECT * FROM spend_logs \(clause)ORDER BY start_time DESC, request_id LIMIT ?1", values)
        }.map(Self.logRow(from:))
    }

    private static let logColumns =
        "request_id, start_time, end_time, key_name, key_alias, team_id, user_id, model_group, deployment, provider, model, "
        + "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, thinking_tokens, spend, status, error_type, "
        + "session_id, duration_ms, attempts"

    private static func values(of row: SpendLogRow) -> [SQLiteValue] {
        [
            .text(row.requestID), .real(row.startTime), .real(row.endTime), SQLiteValue(row.keyName), SQLiteValue(row.keyAlias),
            SQLiteValue(row.teamID), SQLiteValue(row.userID), SQLiteValue(row.modelGroup), SQLiteValue(row.deployment),
            SQLiteValue(row.provider), SQLiteValue(row.model), SQLiteValue(row.inputTokens), SQLiteValue(row.outputTokens),
            SQLiteValue(row.cacheReadTokens), SQLiteValue(row.cacheWriteTokens), SQLiteValue(row.thinkingTokens), .real(row.spend),
            SQLiteValue(row.status), SQLiteValue(row.errorType), SQLiteValue(row.sessionID), .real(row.durationMS),
            SQLiteValue(row.attempts),
        ]
    }

    private static func logRow(from row: SQLiteRow) -> SpendLogRow {
        SpendLogRow(
            requestID: row.string("request_id") ?? "", startTime: row.double("start_time") ?? 0, endTime: row.double("end_time") ?? 0,
            keyName: row.string("key_name"), keyAlias: row.string("key_alias"), teamID: row.string("team_id"),
            userID: row.string("user_id"), modelGroup: row.string("model_group"), deployment: row.string("deployment"),
            provider: row.string("provider"), model: row.string("model"), inputTokens: row.int("input_tokens") ?? 0,
            outputTokens: row.int("output_tokens") ?? 0, cacheReadTokens: row.int("cache_read_tokens") ?? 0,
            cacheWriteTokens: row.int("cache_write_tokens") ?? 0, thinkingTokens: row.int("thinking_tokens") ?? 0,
            spend: row.double("spend") ?? 0, status: row.int("status") ?? 0, errorType: row.string("error_type"),
            sessionID: row.string("session_id"), durationMS: row.double("duration_ms") ?? 0, attempts: row.int("attempts") ?? 1
        )
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
    private static let teamColumns = "team_id, team_alias, models, \(limitColumns), blocked, metadata, created_at, updated_at"
    private static let keyColumns =
        "token_hash, key_name, key_alias, user_id, team_id, models, \(limitColumns), expires, blocked, metadata, created_at, updated_at"

    private static func names(_ columns: String) -> [Substring] {
        columns.split(separator: ",").map { $0.drop { $0 == " " } }
    }

    private static func placeholders(_ columns: String) -> String {
        (1...Self.names(columns).count).map { "?\($0)" }.joined(separator: ", ")
    }

    /// `column = ?n` for every column but the first, which the WHERE clause names as `?1`.
    private static func assignments(_ columns: String) -> String {
        Self.names(columns).enumerated().dropFirst().map { "\($1) = ?\($0 + 1)" }.joined(separator: ", ")
    }

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
                .integer(team.blocked ? 1 : 0), .text(team.metadata.jsonText), .real(team.createdAt.timeIntervalSince1970),
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
                .real(key.createdAt.timeIntervalSince1970), .real(key.updatedAt.timeIntervalSince1970),
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
