import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Telemetry
import Testing

@testable import Switchboard

@Suite("A key's life through the admin API: update, regenerate, block, its own info; the spend report")
struct KeyLifecycleTests {
    static let master = VirtualKeyGatewayTests.bearer(VirtualKeyGatewayTests.master)

    /// A gateway on a new database whose `priced` model costs $0.01 per input token and $0.02 per output token.
    static func start(
        extra: String = "", deployments: String = "", spans: (@Sendable (SpanData) -> Void)? = nil
    ) async throws -> (GatewayHarness, String) {
        let path = SQLiteConnectionTests.temporaryPath()
        let yaml = """
            model_list:
              - {model_name: "claude-*", litellm_params: {model: mock/echo}}
              - {model_name: priced, litellm_params: {model: mock/echo, input_cost_per_token: 0.01, output_cost_per_token: 0.02}}
            \(deployments)
            general_settings: {master_key: \(VirtualKeyGatewayTests.master), database_url: "sqlite://\(path)"}
            \(extra)
            """
        let configuration = try ConfigurationLoader(environment: [:]).load(yaml: yaml).configuration
        let keys = try await KeyDirectory(databasePath: try #require(configuration.databasePath))
        let harness = try GatewayHarness(yaml: yaml, keys: keys, spans: spans)
        try await harness.gateway.applyGovernance(configuration)
        return (harness, path)
    }

    static func post(_ harness: GatewayHarness, _ uri: String, _ body: String, headers: HTTPFields = master) async throws -> TestResponse {
        try await harness.test { try await $0.post(uri, body, headers: headers) }
    }

    static func get(_ harness: GatewayHarness, _ uri: String, headers: HTTPFields = master) async throws -> TestResponse {
        try await harness.test { try await $0.execute(uri: uri, method: .get, headers: headers, body: nil) }
    }

    static func ask(_ harness: GatewayHarness, _ key: String, model: String = "claude-x") async throws -> TestResponse {
        try await Self.post(harness, "/v1/messages", VirtualKeyGatewayTests.message(model), headers: VirtualKeyGatewayTests.bearer(key))
    }

    @Test("update changes only the fields sent; block and unblock; regenerate keeps the record and retires the old key")
    func lifecycle() async throws {
        let (harness, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let made = try await Self.post(harness, "/key/generate", #"{"key_alias":"alice","max_budget":5,"rpm_limit":10,"models":["claude-*"]}"#)
        let key = try #require(made.json["key"] as? String)

        let updated = try await Self.post(harness, "/key/update", #"{"key":"\#(key)","rpm_limit":20,"metadata":{"desk":"7"}}"#)
        #expect(updated.status == .ok)
        #expect(updated.json["rpm_limit"] as? Int == 20 && updated.json["max_budget"] as? Double == 5)
        #expect(updated.json["key_alias"] as? String == "alice" && updated.json["models"] as? [String] == ["claude-*"])
        #expect((updated.json["metadata"] as? [String: Any])?["desk"] as? String == "7")
        #expect(try await Self.post(harness, "/key/update", #"{"key":"\#(key)","max_budget":-1}"#).status == .badRequest)
        #expect(try await Self.post(harness, "/key/update", #"{"key":"\#(key)","budget_duration":"fortnight"}"#).status == .badRequest)
        #expect(try await Self.post(harness, "/key/update", #"{"key":"sk-nope","rpm_limit":1}"#).status == .notFound)
        #expect(try await Self.post(harness, "/key/update", #"{"key":"\#(key)","spend_cap":1}"#).status == .badRequest)

        #expect(try await Self.ask(harness, key).status == .ok)
        let blocked = try await Self.post(harness, "/key/block", #"{"key":"\#(key)"}"#)
        #expect(blocked.json["blocked"] as? Bool == true)
        let refused = try await Self.ask(harness, key)
        #expect(refused.status == .unauthorized && refused.errorMessage?.contains("blocked") == true)
        _ = try await Self.post(harness, "/key/unblock", #"{"key":"\#(key)"}"#)
        #expect(try await Self.ask(harness, key).status == .ok)

        let regenerated = try await Self.post(harness, "/key/\(key)/regenerate", "")
        let newKey = try #require(regenerated.json["key"] as? String)
        #expect(newKey != key && newKey.hasPrefix("sk-"))
        #expect(regenerated.json["key_alias"] as? String == "alice" && regenerated.json["rpm_limit"] as? Int == 20)
        #expect(try await Self.ask(harness, key).status == .unauthorized, "the old key stops at once")
        #expect(try await Self.ask(harness, newKey).status == .ok)
        let again = try await Self.post(harness, "/key/regenerate", #"{"key":"\#(newKey)"}"#)
        #expect(again.status == .ok && (again.json["key"] as? String) != newKey)
    }

    @Test("a virtual key reads its own /key/info, and no other key's, and nothing else of the admin API")
    func ownInfo() async throws {
        let (harness, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let alice = try #require(try await Self.post(harness, "/key/generate", #"{"key_alias":"alice","max_budget":3}"#).json["key"] as? String)
        let bob = try #require(try await Self.post(harness, "/key/generate", #"{"key_alias":"bob"}"#).json["key"] as? String)
        let own = try await Self.get(harness, "/key/info", headers: VirtualKeyGatewayTests.bearer(alice))
        #expect(own.status == .ok)
        #expect((own.json["info"] as? [String: Any])?["key_alias"] as? String == "alice")
        #expect((own.json["info"] as? [String: Any])?["max_budget"] as? Double == 3)
        let named = try await Self.get(harness, "/key/info?key=\(alice)", headers: VirtualKeyGatewayTests.bearer(alice))
        #expect(named.status == .ok)
        let other = try await Self.get(harness, "/key/info?key=\(bob)", headers: VirtualKeyGatewayTests.bearer(alice))
        #expect(other.status == .forbidden)
        #expect(try await Self.get(harness, "/key/list", headers: VirtualKeyGatewayTests.bearer(alice)).status == .forbidden)
        #expect(try await Self.get(harness, "/global/spend/report", headers: VirtualKeyGatewayTests.bearer(alice)).status == .forbidden)
    }

    @Test("/global/spend/report sums the spend log per day by team, key, customer and model, in LiteLLM's shapes")
    func report() async throws {
        let (harness, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let team = try #require(try await Self.post(harness, "/team/new", #"{"team_id":"t1","team_alias":"platform"}"#).json["team_id"] as? String)
        let alice = try #require(
            try await Self.post(harness, "/key/generate", #"{"key_alias":"alice","team_id":"\#(team)","user_id":"alice@x"}"#).json["key"] as? String
        )
        let bob = try #require(try await Self.post(harness, "/key/generate", #"{"key_alias":"bob"}"#).json["key"] as? String)
        var costs: [String: Double] = [:]
        for (key, name) in [(alice, "alice"), (alice, "alice"), (bob, "bob")] {
            let answer = try await Self.ask(harness, key, model: "priced")
            let usage = try #require(answer.json["usage"] as? [String: Any])
            let cost = Double(usage["input_tokens"] as! Int) * 0.01 + Double(usage["output_tokens"] as! Int) * 0.02
            costs[name, default: 0] += cost
        }
        let byKey = try await Self.get(harness, "/global/spend/report?group_by=api_key")
        #expect(byKey.status == .ok)
        let keys = try #require(byKey.jsonArray as? [[String: Any]])
        let aliceRow = try #require(keys.first { $0["key_alias"] as? String == "alice" })
        #expect(abs((aliceRow["total_cost"] as? Double ?? 0) - costs["alice"]!) < 1e-9)
        #expect((aliceRow["model_details"] as? [[String: Any]])?.first?["model"] as? String == "priced")

        let byTeam = try await Self.get(harness, "/global/spend/report")
        let days = try #require(byTeam.jsonArray as? [[String: Any]])
        #expect(days.count == 1 && (days[0]["group_by_day"] as? String)?.hasSuffix("T00:00:00+00:00") == true)
        let teams = try #require(days[0]["teams"] as? [[String: Any]])
        let platform = try #require(teams.first { $0["team_name"] as? String == "platform" })
        #expect(abs((platform["total_spend"] as? Double ?? 0) - costs["alice"]!) < 1e-9)

        let byCustomer = try await Self.get(harness, "/global/spend/report?group_by=customer&team_id=t1")
        let customers = try #require((byCustomer.jsonArray as? [[String: Any]])?.first?["customers"] as? [[String: Any]])
        #expect(customers.map { $0["customer"] as? String } == ["alice@x"])

        let byModel = try await Self.get(harness, "/global/spend/report?group_by=model&api_key=\(bob)")
        let models = try #require((byModel.jsonArray as? [[String: Any]])?.first?["models"] as? [[String: Any]])
        #expect(models.count == 1 && models[0]["requests"] as? Int == 1)
        #expect(abs((models[0]["total_spend"] as? Double ?? 0) - costs["bob"]!) < 1e-9)

        // By the key's sk-...abcd name too, as /spend/logs takes it (a deleted key is known only by that).
        let bobName = VirtualKey.displayName(bob)
        let byName = try await Self.get(harness, "/global/spend/report?group_by=model&api_key=\(bobName)")
        let named = try #require((byName.jsonArray as? [[String: Any]])?.first?["models"] as? [[String: Any]])
        #expect(named.count == 1 && named[0]["requests"] as? Int == 1)

        let before = try await Self.get(harness, "/global/spend/report?start_date=2020-01-01&end_date=2020-01-31")
        #expect((before.jsonArray as? [Any])?.isEmpty == true)
        #expect(try await Self.get(harness, "/global/spend/report?group_by=planet").status == .badRequest)
        #expect(try await Self.get(harness, "/global/spend/report?start_date=2026-02-30").status == .badRequest)
        #expect(try await Self.get(harness, "/global/spend/report?start_date=2026-03-02&end_date=2026-03-01").status == .badRequest)
    }

    @Test("the gateway budget binds the master key and every virtual key; the budget gauge shows what is left")
    func gatewayBudget() async throws {
        let (harness, path) = try await Self.start(extra: "litellm_settings: {max_budget: 0.05, budget_duration: 1d}")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = try #require(try await Self.post(harness, "/key/generate", #"{"key_alias":"alice","max_budget":100}"#).json["key"] as? String)
        #expect(try await Self.ask(harness, key, model: "priced").status == .ok)  // $0.07, over the $0.05
        let refused = try await Self.ask(harness, key, model: "priced")
        #expect(refused.status == .tooManyRequests && refused.headers[.retryAfter] == nil)
        #expect(refused.errorMessage?.contains("the gateway has spent") == true)
        #expect(refused.errorMessage?.contains("max_budget of $0.05; it resets at") == true)
        let onMaster = try await Self.post(harness, "/v1/messages", VirtualKeyGatewayTests.message("priced"))
        #expect(onMaster.status == .tooManyRequests, "the master key is bound by the gateway's budget too")
        #expect(try await Self.get(harness, "/key/list").status == .ok, "administration still works")
        #expect(harness.metric("switchboard_limit_rejections", ["gateway", "budget"]) == 2)

        let metrics = String(buffer: try await Self.get(harness, "/metrics").body)
        let gateway = try #require(metrics.split(separator: "\n").first { $0.hasPrefix(#"switchboard_budget_remaining_usd{scope="gateway",name="gateway"}"#) })
        #expect(Double(gateway.split(separator: " ").last ?? "") ?? 0 < 0, "overshot by the request in flight, as documented")
        #expect(metrics.contains(#"switchboard_budget_remaining_usd{scope="key",name="alice"}"#))
    }

    @Test("spans carry the key's alias and team, never the key")
    func spansNameTheKey() async throws {
        let spans = Mutex<[SpanData]>([])
        let (harness, path) = try await Self.start { span in spans.withLock { $0.append(span) } }
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try await Self.post(harness, "/team/new", #"{"team_id":"t1"}"#)
        let key = try #require(try await Self.post(harness, "/key/generate", #"{"key_alias":"alice","team_id":"t1"}"#).json["key"] as? String)
        #expect(try await Self.ask(harness, key).status == .ok)
        let onMessages = spans.withLock { $0 }.filter { $0.attributes["switchboard.key_alias"] != nil }
        #expect(onMessages.count == 2, "the SERVER span and the CLIENT span of the attempt")
        #expect(onMessages.allSatisfy { $0.attributes["switchboard.key_alias"] == .string("alice") && $0.attributes["switchboard.team_id"] == .string("t1") })
        #expect(!spans.withLock { $0 }.contains { "\($0.attributes)".contains(key) })
    }

    @Test("a request refused by its key's budget or rate names the key (alias and team) on its record, for the access log")
    func refusalsNameTheKey() async throws {
        try await UsageLimiterTests.insideOneMinute()
        let (harness, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try await Self.post(harness, "/team/new", #"{"team_id":"t1"}"#)
        let key = try #require(try await Self.post(harness, "/key/generate", #"{"key_alias":"rushed","team_id":"t1","rpm_limit":1}"#).json["key"] as? String)
        #expect(try await Self.ask(harness, key).status == .ok)
        #expect(try await Self.ask(harness, key).status == .tooManyRequests)
        let refused = try #require(harness.recorder.all.last { $0.keyRefusal != nil })
        #expect(refused.keyRefusal == .limit(scope: "key", kind: "rpm", key: KeyLabel(alias: "rushed", teamID: "t1")))
        #expect(refused.virtualKey == nil, "not admitted: no slot to free, no spend-log row")
    }

    @Test("a key's models may name LiteLLM access groups (model_info.access_groups)")
    func accessGroups() async throws {
        let (harness, path) = try await Self.start(deployments: """
              - {model_name: beta-a, litellm_params: {model: mock/echo}, model_info: {access_groups: [beta-models]}}
              - {model_name: beta-b, litellm_params: {model: mock/echo}, model_info: {access_groups: [beta-models, other]}}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = try #require(try await Self.post(harness, "/key/generate", #"{"models":["beta-models"]}"#).json["key"] as? String)
        #expect(try await Self.ask(harness, key, model: "beta-a").status == .ok)
        #expect(try await Self.ask(harness, key, model: "beta-b").status == .ok)
        let refused = try await Self.ask(harness, key, model: "priced")
        #expect(refused.status == .forbidden && refused.errorMessage?.contains("beta-models") == true)
    }
}
