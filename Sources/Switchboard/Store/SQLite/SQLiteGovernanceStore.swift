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
                "INSERT INTO teams (\(StoreColumns.teamColumns)) VALUES (\(StoreColumns.placeholders(StoreColumns.teamColumns)))",
                StoreColumns.values(of: team)
            )
        }
    }

    func updateTeam(_ team: TeamRecord) throws -> Bool {
        try self.write(conflict: "") { connection in
            let assignments = StoreColumns.assignments(StoreColumns.teamColumns, except: StoreColumns.batchOwnedColumns)
            return try connection.run("UPDATE teams SET \(assignments) WHERE team_id = ?1", StoreColumns.values(of: team)) > 0
        }
    }

    func deleteTeam(id: String) throws -> Bool {
        try self.connection.withLock { try $0.run("DELETE FROM teams WHERE team_id = ?1", [.text(id)]) > 0 }
    }

    func team(id: String) throws -> TeamRecord? {
        try self.connection.withLock { try $0.query("SELECT * FROM teams WHERE team_id = ?1", [.text(id)]) }
            .first.map(StoreColumns.team(from:))
    }

    func teams() throws -> [TeamRecord] {
        try self.connection.withLock { try $0.query("SELECT * FROM teams ORDER BY created_at, team_id") }
            .map(StoreColumns.team(from:))
    }

    // MARK: - Keys

    func insertKey(_ key: KeyRecord) throws {
        try self.write(conflict: "a key with key_alias \(key.alias ?? "") exists already") { connection in
            try Self.checkTeam(of: key, on: connection)
            try connection.run(
                "INSERT INTO keys (\(StoreColumns.keyColumns)) VALUES (\(StoreColumns.placeholders(StoreColumns.keyColumns)))",
                StoreColumns.values(of: key)
            )
        }
    }

    func updateKey(_ key: KeyRecord) throws -> Bool {
        try self.write(conflict: "a key with key_alias \(key.alias ?? "") exists already") { connection in
            try Self.checkTeam(of: key, on: connection)
            let assignments = StoreColumns.assignments(StoreColumns.keyColumns, except: StoreColumns.batchOwnedColumns)
            return try connection.run("UPDATE keys SET \(assignments) WHERE token_hash = ?1", StoreColumns.values(of: key)) > 0
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
            .first.map(StoreColumns.key(from:))
    }

    func keys() throws -> [KeyRecord] {
        try self.connection.withLock { try $0.query("SELECT * FROM keys ORDER BY created_at, token_hash") }
            .map(StoreColumns.key(from:))
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
}
