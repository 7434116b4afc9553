import Foundation
import Testing

@testable import Switchboard

@Suite("The embedded governance store: keys by hash, teams, durations")
struct SQLiteGovernanceStoreTests {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    static func store() throws -> (SQLiteGovernanceStore, String) {
        let path = SQLiteConnectionTests.temporaryPath()
        return (try SQLiteGovernanceStore(path: path), path)
    }

    @Test("a key is stored as its hash only, found by the hash, and survives reopening the file")
    func keysByHash() async throws {
        let (store, path) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try store.insertTeam(TeamRecord(teamID: "t-1", alias: "platform", createdAt: Self.now, updatedAt: Self.now))
        let secret = VirtualKey.generate()
        #expect(secret.hasPrefix("sk-") && secret.count == 35)
        var key = KeyRecord(
            tokenHash: VirtualKey.hash(secret), keyName: VirtualKey.displayName(secret), alias: "alice-laptop",
            userID: "alice", teamID: "t-1", models: ["claude-*"],
            limits: SpendLimits(maxBudget: 25, budgetDuration: BudgetDuration("30d"), budgetResetAt: Self.now, rpmLimit: 60),
            expires: Self.now.addingTimeInterval(86_400), metadata: .object(["cost_center": .string("42")]),
            createdAt: Self.now, updatedAt: Self.now
        )
        try store.insertKey(key)
        #expect(try store.key(hash: VirtualKey.hash(secret)) == key)
        #expect(try store.key(hash: VirtualKey.hash(secret + "x")) == nil)

        let bytes = try Data(contentsOf: URL(fileURLWithPath: path)) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data(secret.utf8)) == nil, "the key itself is never written")

        key.blocked = true
        key.spend = 3.5  // only spend batches change spend; an update leaves it
        #expect(try store.updateKey(key))
        let reopened = try SQLiteGovernanceStore(path: path)
        key.spend = 0
        #expect(try reopened.keys() == [key])
        #expect(try await reopened.deleteKey(hash: key.tokenHash))
        #expect(try reopened.keys().isEmpty)
    }

    @Test("a duplicate alias or an unknown team is a conflict; deleting a team leaves its keys without one")
    func conflicts() async throws {
        let (store, path) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try store.insertTeam(TeamRecord(teamID: "t-1", createdAt: Self.now, updatedAt: Self.now))
        #expect(throws: GovernanceStoreConflict.self) {
            try store.insertTeam(TeamRecord(teamID: "t-1", createdAt: Self.now, updatedAt: Self.now))
        }
        let first = KeyRecord(tokenHash: "h1", keyName: "sk-...0001", alias: "ci", teamID: "t-1", createdAt: Self.now, updatedAt: Self.now)
        try store.insertKey(first)
        #expect(throws: GovernanceStoreConflict.self) {
            try store.insertKey(KeyRecord(tokenHash: "h2", keyName: "sk-...0002", alias: "ci", createdAt: Self.now, updatedAt: Self.now))
        }
        #expect(throws: GovernanceStoreConflict.self) {
            try store.insertKey(KeyRecord(tokenHash: "h3", keyName: "sk-...0003", teamID: "nope", createdAt: Self.now, updatedAt: Self.now))
        }
        #expect(try store.deleteTeam(id: "t-1"))
        #expect(try store.key(hash: "h1")?.teamID == nil)
        #expect(try !store.updateTeam(TeamRecord(teamID: "t-1", createdAt: Self.now, updatedAt: Self.now)))
    }

    @Test(
        "budget durations: LiteLLM's spellings, calendar months in UTC, anything else refused",
        arguments: [("30s", 30.0), ("15m", 900), ("1h", 3_600), ("1d", 86_400), ("7d", 604_800), ("30d", 2_592_000)]
    )
    func durations(text: String, seconds: TimeInterval) async throws {
        let duration = try #require(BudgetDuration(text))
        #expect(duration.nextReset(after: Self.now).timeIntervalSince(Self.now) == seconds)
        #expect(BudgetDuration(duration.description) == duration)
    }

    @Test("a month runs to the same day next month (or its last day); bad durations are nil")
    func months() async throws {
        let january31 = try #require(ISO8601DateFormatter().date(from: "2027-01-31T10:00:00Z"))
        let reset = try #require(BudgetDuration("1mo")).nextReset(after: january31)
        #expect(ISO8601DateFormatter().string(from: reset) == "2027-02-28T10:00:00Z")
        for bad in ["", "d", "0d", "-1d", "1w", "1.5h", "1dd", "99999999999d"] {
            #expect(BudgetDuration(bad) == nil, "\(bad)")
        }
    }

    @Test("a key's unset rate limits are its team's; its budget stays its own")
    func inheritance() {
        let team = SpendLimits(maxBudget: 100, rpmLimit: 600, tpmLimit: 1_000_000, maxParallelRequests: 8)
        let key = SpendLimits(maxBudget: 10, rpmLimit: 60).inheriting(from: team)
        #expect(key == SpendLimits(maxBudget: 10, rpmLimit: 60, tpmLimit: 1_000_000, maxParallelRequests: 8))
    }
}

@Suite("Schema migrations: a database from every earlier version opens at the latest, its rows intact")
struct StoreMigrationTests {
    @Test("version 1 → 2: keys become the API's, log rows keep their key's name and are still found by it")
    func fromVersion1() async throws {
        let path = SQLiteConnectionTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.execute(StoreMigrations.all[0])
            try connection.execute("PRAGMA user_version = 1")
            try connection.execute(
                """
                INSERT INTO keys (token_hash, key_name, key_alias, spend, created_at, updated_at)
                    VALUES ('\(String(repeating: "a", count: 64))', 'sk-...wxyz', 'old', 2.5, 1, 1);
                INSERT INTO spend_logs (request_id, start_time, end_time, key_name, spend, status, duration_ms)
                    VALUES ('r-old', 100, 101, 'sk-...wxyz', 2.5, 200, 1000);
                UPDATE gateway_budget SET spend = 7 WHERE id = 1;
                """
            )
        }
        let store = try SQLiteGovernanceStore(path: path)
        let connection = try SQLiteConnection(path: path)
        #expect(try connection.query("PRAGMA user_version").first?.int("user_version") == StoreMigrations.latestVersion)
        let key = try #require(try store.keys().first)
        #expect(key.alias == "old" && key.spend == 2.5 && key.source == .api)
        #expect(try store.gatewaySpend().spend == 7)
        let rows = try store.spendLogs(SpendLogFilter(key: (String(repeating: "a", count: 12), "sk-...wxyz")), limit: 10)
        #expect(rows.map(\.requestID) == ["r-old"] && rows[0].keyHashPrefix == nil)
        #expect(throws: Never.self) { try StoreMigrations.migrate(connection) }  // at the latest: nothing to run
    }

    @Test("every version from 0 migrates to the latest")
    func fromEveryVersion() async throws {
        for start in 0..<StoreMigrations.latestVersion {
            let path = SQLiteConnectionTests.temporaryPath()
            defer { try? FileManager.default.removeItem(atPath: path) }
            let connection = try SQLiteConnection(path: path)
            for version in 0..<start { try connection.execute(StoreMigrations.all[version]) }
            try connection.execute("PRAGMA user_version = \(start)")
            #expect(try StoreMigrations.migrate(connection) == start)
            #expect(try connection.query("PRAGMA user_version").first?.int("user_version") == StoreMigrations.latestVersion)
        }
    }

    @Test("spend_log_retention_days deletes older rows only")
    func retention() async throws {
        let path = SQLiteConnectionTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try await KeyDirectory(databasePath: path)
        let now = Date()
        var batch = SpendBatch()
        for (id, age) in [("old", 40.0), ("recent", 10.0)] {
            let start = now.addingTimeInterval(-age * 86_400).timeIntervalSince1970
            batch.logRows.append(SpendLogRow(requestID: id, startTime: start, endTime: start, status: 200, durationMS: 1, attempts: 1))
        }
        try await directory.store.record(batch)
        #expect(try await directory.pruneSpendLogs(olderThanDays: 30, now: now) == 1)
        #expect(try await directory.spendLogs().map(\.requestID) == ["recent"])
    }
}
