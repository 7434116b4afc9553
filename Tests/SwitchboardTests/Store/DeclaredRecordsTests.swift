import Foundation
import Testing

@testable import Switchboard

@Suite("Keys and teams declared in the config file: hashes or os.environ/ references, kept in line on every load")
struct DeclaredRecordsTests {
    static let secret = "sk-declared-by-environment-0123456789"

    static func configuration(_ entries: String, environment: [String: String] = ["ALICE_KEY": secret]) throws -> GatewayConfiguration {
        let yaml = """
            model_list: [{model_name: "claude-*", litellm_params: {model: mock/echo}}]
            general_settings: {master_key: sk-master}
            switchboard:
            \(entries)
            """
        return try ConfigurationLoader(environment: environment).load(yaml: yaml).configuration
    }

    @Test("declared keys work, with their team's limits; a changed file updates them; a removed one is deleted")
    func sync() async throws {
        let path = SQLiteConnectionTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bobHash = VirtualKey.hash("sk-bob-known-only-by-hash")
        let first = try Self.configuration("""
              teams: [{team_id: platform, max_budget: 50, rpm_limit: 100}]
              virtual_keys:
                - {key: os.environ/ALICE_KEY, key_alias: alice, team_id: platform, models: ["claude-*"], max_budget: 5, budget_duration: 30d}
                - {key_hash: \(bobHash), key_alias: bob}
            """)
        let directory = try await KeyDirectory(databasePath: path)
        try await directory.syncDeclared(teams: first.governance.teams, keys: first.governance.keys)
        let alice = try directory.authenticate(Self.secret)
        #expect(alice.alias == "alice" && alice.teamID == "platform" && alice.allowedModels == ["claude-*"])
        #expect(alice.scopes.first?.limits.rpmLimit == 100, "inherits its team's rate")
        #expect(try directory.authenticate("sk-bob-known-only-by-hash").alias == "bob")
        let period = try #require(directory.key(Self.secret)?.limits.budgetResetAt)

        // Spend survives a reload; so does the budget period while its duration stays.
        var record = ExchangeRecord(requestID: "r1", method: "POST", route: "/v1/messages")
        record.virtualKey = alice
        record.costUSD = 1.5
        directory.exchangeDidFinish(record)
        let second = try Self.configuration("""
              teams: [{team_id: platform, max_budget: 50, rpm_limit: 100}]
              virtual_keys:
                - {key: os.environ/ALICE_KEY, key_alias: alice, team_id: platform, models: ["claude-*"], max_budget: 8, budget_duration: 30d}
            """)
        try await directory.syncDeclared(teams: second.governance.teams, keys: second.governance.keys, now: Date().addingTimeInterval(60))
        let updated = try #require(directory.key(Self.secret))
        #expect(updated.limits.maxBudget == 8 && updated.spend == 1.5 && updated.limits.budgetResetAt == period)
        #expect(throws: KeyRefusal.self, "bob left the file") { try directory.authenticate("sk-bob-known-only-by-hash") }

        // Written to the store, and the same after reopening.
        try await directory.flush()
        let reopened = try await KeyDirectory(databasePath: path)
        #expect(reopened.key(Self.secret)?.spend == 1.5 && reopened.key(Self.secret)?.source == .config)
        #expect(reopened.keys().count == 1)

        // A key made through the admin API is not the file's to change.
        let (made, _) = try await reopened.generate(KeyRecord(tokenHash: "", keyName: "", alias: "carol", createdAt: Date(), updatedAt: Date()))
        let clash = try Self.configuration("  virtual_keys: [{key_hash: \(VirtualKey.hash(made)), key_alias: carol}]")
        await #expect(throws: GovernanceStoreConflict.self) { try await reopened.syncDeclared(teams: [], keys: clash.governance.keys) }
    }

    @Test("a key written into the file, a bad hash, an unknown field or a bad budget is refused with its path")
    func refusals() async throws {
        func message(_ entries: String) -> String {
            do {
                _ = try Self.configuration(entries)
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        #expect(message("  virtual_keys: [{key: sk-literal-secret, key_alias: a}]").contains("a key written in the config file is a secret"))
        #expect(message("  virtual_keys: [{key_hash: abc}]").contains("64 hex digits"))
        #expect(message("  virtual_keys: [{key_alias: a}]").contains("expected either key: os.environ/NAME or key_hash"))
        #expect(message("  virtual_keys: [{key: os.environ/ALICE_KEY, spend_cap: 1}]").contains("switchboard.virtual_keys[0].spend_cap"))
        #expect(message("  virtual_keys: [{key: os.environ/ALICE_KEY, max_budget: -1}]").contains("switchboard.virtual_keys[0].max_budget"))
        #expect(message("  teams: [{team_alias: x}]").contains("team_id"))
        #expect(message("  virtual_keys: [{key: os.environ/MISSING_KEY}]").contains("MISSING_KEY is not set"))
    }

    @Test("with a master key and no database_url the database is switchboard.db in state_dir, else the working directory")
    func defaultDatabase() async throws {
        #expect(try Self.configuration("  state_dir: /var/lib/switchboard").databasePath == "/var/lib/switchboard/switchboard.db")
        #expect(try Self.configuration("  host: 127.0.0.1").databasePath == "switchboard.db")
        let withoutKey = try ConfigurationLoader(environment: [:]).load(yaml: "model_list: [{model_name: a, litellm_params: {model: mock/echo}}]")
        #expect(withoutKey.configuration.databasePath == nil, "no master key, nothing to administer keys with")
    }
}
