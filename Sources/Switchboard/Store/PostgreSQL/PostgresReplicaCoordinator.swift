import Foundation
import Logging
import PostgresNIO

/// ``ReplicaCoordinator`` on the shared PostgreSQL database: admissions and releases are one call each to the
/// `switchboard_admit` / `switchboard_release` functions (``PostgresMigrations``), on prepared statements; a
/// synchronization is one round trip that also beats this replica's heartbeat.
final class PostgresReplicaCoordinator: ReplicaCoordinator {
    let store: PostgresGovernanceStore
    var instanceID: String { self.store.instanceID }

    init(store: PostgresGovernanceStore) async throws {
        self.store = store
        let instanceID = store.instanceID
        // A replica restarted under the same name starts with no requests in flight.
        try await store.client.withConnection { connection in
            try await store.run("DELETE FROM requests_in_flight WHERE instance_id = $1", [.text(instanceID)], on: connection)
        }
    }

    func admit(_ scopes: [LimitedScope], reserve tokens: Int) async throws -> SharedAdmission {
        let statement = AdmitStatement(
            scopes: scopes.map(\.sharedName),
            rpm: scopes.map { Int64($0.limits.rpmLimit ?? -1) },
            tpm: scopes.map { Int64($0.limits.tpmLimit ?? -1) },
            parallel: scopes.map { Int64($0.limits.maxParallelRequests ?? -1) },
            reserve: Int64(tokens),
            instance: self.instanceID
        )
        // Read to the end: a row sequence left early is cancelled, and postgres-nio may then fail the next query
        // on the same pooled connection with a CancellationError.
        var answer: AdmitStatement.Row?
        for try await row in try await self.store.client.execute(statement) { answer = row }
        guard let (refused, limit, count, minute) = answer else { throw PostgresStoreError("switchboard_admit returned no row") }
        if refused == 0 {
            return .admitted(SharedSlot(scopes: statement.scopes, minute: minute, reservedTokens: tokens))
        }
        // `current` is the refusing counter: requests in flight for `parallel`, the minute's count otherwise.
        return .refused(index: Int(refused) - 1, limit: limit ?? "", inFlight: limit == "parallel" ? Int(count) : 0)
    }

    func release(_ slot: SharedSlot, used tokens: Int) async throws {
        let statement = ReleaseStatement(
            scopes: slot.scopes, instance: self.instanceID, minute: slot.minute, reserved: Int64(slot.reservedTokens), used: Int64(tokens)
        )
        for try await _ in try await self.store.client.execute(statement) {}
    }

    func synchronize() async throws -> SharedState {
        let sql = """
            WITH beat AS (
                INSERT INTO replicas (instance_id, seen_at) VALUES ($1, now())
                ON CONFLICT (instance_id) DO UPDATE SET seen_at = now()
            )
            SELECT 'key' AS kind, token_hash AS id, spend FROM keys
            UNION ALL SELECT 'team', team_id, spend FROM teams
            UNION ALL SELECT 'gateway', '', spend FROM gateway_budget
            UNION ALL SELECT 'version', '', version FROM governance_state
            UNION ALL SELECT 'replicas', '', COUNT(*) FROM replicas
                WHERE seen_at > now() - interval '15 seconds' OR instance_id = $1
            """
        var state = SharedState(keySpend: [:], teamSpend: [:], gatewaySpend: 0, version: 0, liveReplicas: 1)
        for row in try await self.store.rows(sql, [.text(self.instanceID)]) {
            let id = row.string("id") ?? ""
            let value = row.double("spend") ?? 0
            switch row.string("kind") {
            case "key": state.keySpend[id] = value
            case "team": state.teamSpend[id] = value
            case "gateway": state.gatewaySpend = value
            case "version": state.version = Int64(value)
            case "replicas": state.liveReplicas = max(1, Int(value))
            default: break
            }
        }
        return state
    }

    func awaitChanges(_ onChange: @Sendable () async -> Void) async throws {
        try await self.store.client.withConnection { connection in
            try await connection.listen(on: PostgresGovernanceStore.changeChannel) { notifications in
                for try await _ in notifications { await onChange() }
            }
        }
    }

    func reconnect() async throws {
        try await self.store.probe()
        self.store.renewPool()
    }

    func prune() async throws {
        try await self.store.client.withConnection { connection in
            try await self.store.run(
                "DELETE FROM rate_windows WHERE minute < floor(extract(epoch FROM now()) / 60) - 5", [], on: connection
            )
            try await self.store.run("DELETE FROM spend_batches WHERE written_at < now() - interval '1 day'", [], on: connection)
            try await self.store.run("DELETE FROM replicas WHERE seen_at < now() - interval '1 day'", [], on: connection)
        }
    }
}

extension LimitedScope {
    /// How the shared counters name the scope: `key:<hash>` or `team:<id>`.
    var sharedName: String { "\(self.scope.kind.rawValue):\(self.scope.id)" }
}

/// `switchboard_admit`, prepared once per connection.
private struct AdmitStatement: PostgresPreparedStatement {
    static let sql = "SELECT refused, reason, current, window_minute FROM switchboard_admit($1, $2, $3, $4, $5, $6)"
    typealias Row = (Int32, String?, Int64, Int64)

    let scopes: [String]
    let rpm: [Int64]
    let tpm: [Int64]
    let parallel: [Int64]
    let reserve: Int64
    let instance: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(self.scopes)
        bindings.append(self.rpm)
        bindings.append(self.tpm)
        bindings.append(self.parallel)
        bindings.append(self.reserve)
        bindings.append(self.instance)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}

/// `switchboard_release`, prepared once per connection.
private struct ReleaseStatement: PostgresPreparedStatement {
    static let sql = "SELECT switchboard_release($1, $2, $3, $4, $5)"
    typealias Row = ()

    let scopes: [String]
    let instance: String
    let minute: Int64
    let reserved: Int64
    let used: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(self.scopes)
        bindings.append(self.instance)
        bindings.append(self.minute)
        bindings.append(self.reserved)
        bindings.append(self.used)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
