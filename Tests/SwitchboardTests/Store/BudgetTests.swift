import Foundation
import Testing

@testable import Switchboard

@Suite("Budgets and spend: checked in memory, reset on schedule, written in batches")
struct BudgetTests {
    static let start = Date(timeIntervalSince1970: 1_780_000_000)

    /// A directory on a new file with a team of budget `teamBudget` and a key in it of budget `keyBudget`.
    static func directory(keyBudget: Double?, teamBudget: Double? = nil, duration: String? = nil)
        async throws -> (KeyDirectory, SQLiteGovernanceStore, String, String)
    {
        let path = SQLiteConnectionTests.temporaryPath()
        let store = try SQLiteGovernanceStore(path: path)
        let period = duration.flatMap(BudgetDuration.init)
        let reset = period?.nextReset(after: Self.start)
        try store.insertTeam(TeamRecord(
            teamID: "t", limits: SpendLimits(maxBudget: teamBudget, budgetDuration: period, budgetResetAt: reset),
            createdAt: Self.start, updatedAt: Self.start
        ))
        let directory = try await KeyDirectory(store: store)
        let (key, _) = try await directory.generate(KeyRecord(
            tokenHash: "", keyName: "", alias: "alice", teamID: "t",
            limits: SpendLimits(maxBudget: keyBudget, budgetDuration: period, budgetResetAt: reset),
            createdAt: Self.start, updatedAt: Self.start
        ))
        return (directory, store, path, key)
    }

    /// A finished request on `key` that cost `cost`.
    static func spend(_ cost: Double, on key: String, in directory: KeyDirectory, now: Date) async throws {
        let identity = try await directory.admit(directory.authenticate(key, now: now), now: now)
        var record = ExchangeRecord(requestID: UUID().uuidString, method: "POST", route: "/v1/messages")
        record.virtualKey = identity
        record.costUSD = cost
        record.status = 200
        record.usage = AnthropicUsage(inputTokens: 100, outputTokens: 10)
        directory.exchangeDidFinish(record)
    }

    @Test("a spent budget is a 429 without retry-after that names what was spent and when it resets")
    func keyBudget() async throws {
        let (directory, _, path, key) = try await Self.directory(keyBudget: 1.0, duration: "1d")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Self.spend(0.6, on: key, in: directory, now: Self.start)
        try await Self.spend(0.6, on: key, in: directory, now: Self.start)  // admitted: 0.6 < 1.0; overshoots, as documented
        do {
            _ = try directory.authenticate(key, now: Self.start.addingTimeInterval(60))
            Issue.record("a spent budget admitted a request")
        } catch {
            #expect(error.error.statusCode == 429 && error.error.type == "rate_limit_error")
            #expect(error.error.headers["retry-after"] == nil)
            #expect(error.error.message.contains("API key alice has spent $1.2000 of its max_budget of $1.00"))
            #expect(error.error.message.contains("resets at 2026-05-29T20:26:40Z"))
            #expect(error.kind == .limit(scope: "key", kind: "budget", key: KeyLabel(alias: "alice", teamID: "t")))
        }
        // The period ends: spend starts again.
        #expect(try directory.authenticate(key, now: Self.start.addingTimeInterval(86_400)).alias == "alice")
    }

    @Test("the team's budget binds its keys too")
    func teamBudget() async throws {
        let (directory, _, path, key) = try await Self.directory(keyBudget: nil, teamBudget: 0.5)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Self.spend(0.5, on: key, in: directory, now: Self.start)
        #expect(throws: KeyRefusal.self) { try directory.authenticate(key, now: Self.start) }
    }

    @Test("flush writes the spend and one log row per request in one batch; a reopened store has them")
    func flushAndReopen() async throws {
        let (directory, store, path, key) = try await Self.directory(keyBudget: 100, duration: "30d")
        defer { try? FileManager.default.removeItem(atPath: path) }
        for cost in [0.25, 0.5, 0.125] { try await Self.spend(cost, on: key, in: directory, now: Self.start) }
        #expect(try store.keys().first?.spend == 0, "nothing is written until the flush")
        try await directory.flush()
        try await directory.flush()  // an empty batch writes nothing
        let reopened = try await KeyDirectory(databasePath: path)
        #expect(reopened.key(key)?.spend == 0.875)
        let rows = try await reopened.spendLogs()
        #expect(rows.count == 3)
        #expect(rows.map(\.spend).reduce(0, +) == 0.875, "spend equals the log's rows")
        #expect(rows.allSatisfy { $0.keyAlias == "alice" && $0.teamID == "t" && $0.inputTokens == 100 })
        #expect(try store.team(id: "t")?.spend == 0.875)
    }

    @Test("a budget reset is written with the spend that follows it")
    func resetPersists() async throws {
        let (directory, _, path, key) = try await Self.directory(keyBudget: 10, duration: "1h")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Self.spend(3, on: key, in: directory, now: Self.start)
        try await directory.flush()
        let later = Self.start.addingTimeInterval(3 * 3_600 + 5)
        try await Self.spend(1, on: key, in: directory, now: later)
        try await directory.flush()
        let reopened = try await KeyDirectory(databasePath: path)
        let record = try #require(reopened.key(key))
        #expect(record.spend == 1)
        #expect(record.limits.budgetResetAt == Self.start.addingTimeInterval(4 * 3_600))
    }

    @Test("an admin update while spend waits to be written counts that spend once, in the store and in memory")
    func updateDoesNotCountPendingSpendTwice() async throws {
        let (directory, store, path, key) = try await Self.directory(keyBudget: 100)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await Self.spend(0.5, on: key, in: directory, now: Self.start)
        var team = try #require(directory.team(id: "t"))
        team.alias = "platform"
        #expect(try await directory.updateTeam(team))
        var record = try #require(directory.key(key))
        record.userID = "alice@example.com"
        #expect(try await directory.updateKey(record))
        try await Self.spend(0.25, on: key, in: directory, now: Self.start)
        try await directory.flush()
        #expect(try store.team(id: "t")?.spend == 0.75)
        #expect(try store.key(hash: VirtualKey.hash(key))?.spend == 0.75)
        #expect(directory.team(id: "t")?.spend == 0.75 && directory.key(key)?.spend == 0.75)
        #expect(directory.team(id: "t")?.alias == "platform" && directory.key(key)?.userID == "alice@example.com")
    }
}
