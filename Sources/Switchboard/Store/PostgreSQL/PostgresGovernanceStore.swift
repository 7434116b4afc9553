import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The shared ``GovernanceStore``: PostgreSQL through postgres-nio's connection pool, for several replicas on
/// one database. The same tables as SQLite's (``StoreColumns`` maps records onto both); every change to a key
/// or team bumps `governance_state.version` and notifies ``changeChannel`` in its transaction, so the other
/// replicas reload it (``PostgresReplicaCoordinator``).
final class PostgresGovernanceStore: GovernanceStore {
    /// The channel every key or team change is announced on.
    static let changeChannel = "switchboard_governance"

    /// This replica's `switchboard.instance_id`, on the spend batches it writes.
    let instanceID: String
    let logger: Logger
    let url: PostgresDatabaseURL
    private let poolSize: Int
    private let poolLogger: Logger
    /// The connection pool, and its own task (postgres-nio's client does its background work there). Replaced
    /// by ``renewPool()`` after an outage.
    private let pool: Mutex<(client: PostgresClient, running: Task<Void, Never>)>

    var client: PostgresClient { self.pool.withLock(\.client) }

    /// Connects, and migrates the database when it is behind (under an advisory lock, so replicas starting
    /// together migrate once). Throws when the database cannot be reached or is newer than this build.
    init(url: PostgresDatabaseURL, poolSize: Int, instanceID: String, logger: Logger) async throws {
        // postgres-nio logs each failed reconnection at info; the directory says once when the store goes and comes.
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .warning)
        self.url = url
        self.poolSize = poolSize
        self.poolLogger = poolLogger
        self.instanceID = instanceID
        self.logger = logger
        self.pool = Mutex(Self.startPool(url: url, size: poolSize, logger: poolLogger))
        do {
            try await withDeadline(url.connectTimeout, what: "connecting to \(url.redacted)") { try await self.migrate() }
        } catch {
            self.pool.withLock { $0.running.cancel() }
            throw error
        }
    }

    deinit { self.pool.withLock { $0.running.cancel() } }

    private static func startPool(url: PostgresDatabaseURL, size: Int, logger: Logger) -> (client: PostgresClient, running: Task<Void, Never>) {
        let client = PostgresClient(configuration: url.clientConfiguration(poolSize: size), backgroundLogger: logger)
        // Detached: `run()` ends at a graceful shutdown it learns of from its task's context, and a pool renewed
        // from within the service group would then close before the last spend is written at shutdown.
        return (client, Task.detached { await client.run() })
    }

    /// Whether the server answers, on a connection of its own: the pool, after failing to connect for a while,
    /// waits longer and longer between attempts (up to a minute), so it cannot tell soon that the server is back.
    func probe() async throws {
        let connection = try await PostgresConnection.connect(
            configuration: self.url.connectionConfiguration(), id: 0, logger: self.poolLogger
        )
        do {
            for try await _ in try await connection.query("SELECT 1", logger: self.poolLogger) {}
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    /// A new pool in place of one that backed off during an outage; calls under way on the old one finish or
    /// fail as they would have.
    func renewPool() {
        let fresh = Self.startPool(url: self.url, size: self.poolSize, logger: self.poolLogger)
        let old = self.pool.withLock { pool in
            defer { pool = fresh }
            return pool.running
        }
        old.cancel()
    }

    private func migrate() async throws {
        try await self.client.withTransaction(logger: self.logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockID))", logger: self.logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS switchboard_schema (version BIGINT NOT NULL)", logger: self.logger)
            var current: Int64 = 0
            for try await version in try await connection.query("SELECT version FROM switchboard_schema", logger: self.logger)
                .decode(Int64.self) { current = version }
            guard current <= PostgresMigrations.latestVersion else {
                throw PostgresStoreError(
                    "the database is at schema version \(current), newer than this build's \(PostgresMigrations.latestVersion): "
                        + "it was written by a newer Switchboard"
                )
            }
            guard current < PostgresMigrations.latestVersion else { return }
            for version in Int(current + 1)...PostgresMigrations.latestVersion {
                for statement in PostgresMigrations.statements(of: PostgresMigrations.all[version - 1]) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
            }
            try await connection.query("DELETE FROM switchboard_schema", logger: self.logger)
            let latest = Int64(PostgresMigrations.latestVersion)
            try await connection.query("INSERT INTO switchboard_schema (version) VALUES (\(latest))", logger: self.logger)
        }
    }

    // MARK: - Teams

    func insertTeam(_ team: TeamRecord) async throws {
        try await self.change(conflict: "team_id \(team.teamID) exists already") { connection in
            try await self.run(
                "INSERT INTO teams (\(StoreColumns.teamColumns)) VALUES (\(StoreColumns.placeholders(StoreColumns.teamColumns, marker: "$")))",
                StoreColumns.values(of: team), on: connection
            )
        }
    }

    func updateTeam(_ team: TeamRecord) async throws -> Bool {
        try await self.change(conflict: "") { connection in
            let assignments = StoreColumns.assignments(StoreColumns.teamColumns, except: StoreColumns.batchOwnedColumns, marker: "$")
            return try await self.run("UPDATE teams SET \(assignments) WHERE team_id = $1 RETURNING 1", StoreColumns.values(of: team), on: connection) > 0
        }
    }

    func deleteTeam(id: String) async throws -> Bool {
        try await self.change(conflict: "") { try await self.run("DELETE FROM teams WHERE team_id = $1 RETURNING 1", [.text(id)], on: $0) > 0 }
    }

    func team(id: String) async throws -> TeamRecord? {
        try await self.rows("SELECT * FROM teams WHERE team_id = $1", [.text(id)]).first.map(StoreColumns.team(from:))
    }

    func teams() async throws -> [TeamRecord] {
        try await self.rows("SELECT * FROM teams ORDER BY created_at, team_id").map(StoreColumns.team(from:))
    }

    // MARK: - Keys

    func insertKey(_ key: KeyRecord) async throws {
        try await self.change(conflict: "a key with key_alias \(key.alias ?? "") exists already") { connection in
            try await self.checkTeam(of: key, on: connection)
            try await self.run(
                "INSERT INTO keys (\(StoreColumns.keyColumns)) VALUES (\(StoreColumns.placeholders(StoreColumns.keyColumns, marker: "$")))",
                StoreColumns.values(of: key), on: connection
            )
        }
    }

    func updateKey(_ key: KeyRecord) async throws -> Bool {
        try await self.change(conflict: "a key with key_alias \(key.alias ?? "") exists already") { connection in
            try await self.checkTeam(of: key, on: connection)
            let assignments = StoreColumns.assignments(StoreColumns.keyColumns, except: StoreColumns.batchOwnedColumns, marker: "$")
            return try await self.run("UPDATE keys SET \(assignments) WHERE token_hash = $1 RETURNING 1", StoreColumns.values(of: key), on: connection) > 0
        }
    }

    func rekey(hash: String, to newHash: String, name newName: String, at time: Date) async throws -> Bool {
        try await self.change(conflict: "") { connection in
            try await self.run(
                "UPDATE keys SET token_hash = $2, key_name = $3, updated_at = $4 WHERE token_hash = $1 RETURNING 1",
                [.text(hash), .text(newHash), .text(newName), .real(time.timeIntervalSince1970)], on: connection
            ) > 0
        }
    }

    func deleteKey(hash: String) async throws -> Bool {
        try await self.change(conflict: "") { try await self.run("DELETE FROM keys WHERE token_hash = $1 RETURNING 1", [.text(hash)], on: $0) > 0 }
    }

    func key(hash: String) async throws -> KeyRecord? {
        try await self.rows("SELECT * FROM keys WHERE token_hash = $1", [.text(hash)]).first.map(StoreColumns.key(from:))
    }

    func keys() async throws -> [KeyRecord] {
        try await self.rows("SELECT * FROM keys ORDER BY created_at, token_hash").map(StoreColumns.key(from:))
    }

    // MARK: - Statements

    /// Runs `body` in a transaction that also bumps `governance_state.version` and notifies the other
    /// replicas (delivered at commit); a uniqueness or reference violation becomes a
    /// ``GovernanceStoreConflict`` saying `conflict`.
    private func change<Value: Sendable>(conflict: String, _ body: (PostgresConnection) async throws -> Value) async throws -> Value {
        do {
            return try await self.client.withTransaction(logger: self.logger) { connection in
                let value = try await body(connection)
                try await connection.query("UPDATE governance_state SET version = version + 1 WHERE id = 1", logger: self.logger)
                try await connection.query("SELECT pg_notify(\(Self.changeChannel), '')", logger: self.logger)
                return value
            }
        } catch {
            let cause = (error as? PostgresTransactionError)?.closureError ?? error
            if let state = (cause as? PSQLError)?.serverInfo?[.sqlState], ["23505", "23503"].contains(state) {
                let message = (cause as? PSQLError)?.serverInfo?[.message] ?? "constraint violated"
                throw GovernanceStoreConflict(description: conflict.isEmpty ? message : conflict)
            }
            throw cause
        }
    }

    private func checkTeam(of key: KeyRecord, on connection: PostgresConnection) async throws {
        guard let teamID = key.teamID else { return }
        guard try await !self.rows("SELECT 1 AS found FROM teams WHERE team_id = $1", [.text(teamID)], on: connection).isEmpty else {
            throw GovernanceStoreConflict(description: "team_id \(teamID) names no team")
        }
    }

    /// Runs a statement; returns how many rows it returned (postgres-nio does not report how many it changed,
    /// so statements whose count matters end in `RETURNING 1`).
    @discardableResult
    func run(_ sql: String, _ values: [StoreValue], on connection: PostgresConnection) async throws -> Int {
        var returned = 0
        for try await _ in try await connection.query(Self.query(sql, values), logger: self.logger) { returned += 1 }
        return returned
    }

    /// The rows a query returns, on `connection` or on any pooled one.
    func rows(_ sql: String, _ values: [StoreValue] = [], on connection: PostgresConnection? = nil) async throws -> [StoreRow] {
        let query = Self.query(sql, values)
        let sequence = if let connection {
            try await connection.query(query, logger: self.logger)
        } else {
            try await self.client.query(query, logger: self.logger)
        }
        var rows: [StoreRow] = []
        for try await row in sequence { rows.append(Self.storeRow(row)) }
        return rows
    }

    static func query(_ sql: String, _ values: [StoreValue]) -> PostgresQuery {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let integer): binds.append(integer)
            case .real(let real): binds.append(real)
            case .text(let text): binds.append(text)
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// A row's cells as ``StoreValue``s, by the type PostgreSQL sent.
    static func storeRow(_ row: PostgresRow) -> StoreRow {
        var values: [String: StoreValue] = [:]
        for cell in row {
            guard cell.bytes != nil else {
                values[cell.columnName] = .null
                continue
            }
            values[cell.columnName] =
                switch cell.dataType {
                case .int2, .int4, .int8: (try? cell.decode(Int64.self)).map { .integer($0) } ?? .null
                case .float4, .float8, .numeric: (try? cell.decode(Double.self)).map { .real($0) } ?? .null
                case .bool: (try? cell.decode(Bool.self)).map { .integer($0 ? 1 : 0) } ?? .null
                default: (try? cell.decode(String.self)).map { .text($0) } ?? .null
                }
        }
        return StoreRow(values: values)
    }
}

/// The shared store refused or failed an operation in a way that is not the database's own error.
struct PostgresStoreError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
