import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Switchboard

@Suite("LiteLLM's team API and /spend/logs")
struct TeamAndSpendEndpointTests {
    static let master = VirtualKeyGatewayTests.bearer(VirtualKeyGatewayTests.master)

    static func get(_ harness: GatewayHarness, _ uri: String, headers: HTTPFields = master) async throws -> TestResponse {
        try await harness.test { try await $0.execute(uri: uri, method: .get, headers: headers, body: nil) }
    }

    @Test("a team's models and block apply to its keys; info lists its keys; deleting it frees them")
    func teams() async throws {
        let (harness, path) = try await VirtualKeyGatewayTests.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let made = try await harness.test {
            try await $0.post("/team/new", #"{"team_alias":"platform","models":["other"],"rpm_limit":100,"max_budget":50}"#, headers: Self.master)
        }
        #expect(made.status == .ok, "\(String(buffer: made.body))")
        let teamID = try #require(made.json["team_id"] as? String)
        #expect(made.json["team_alias"] as? String == "platform")
        #expect(made.json["rpm_limit"] as? Int == 100)

        let generated = try await harness.test { try await $0.post("/key/generate", #"{"team_id":"\#(teamID)"}"#, headers: Self.master) }
        let key = try #require(generated.json["key"] as? String)
        let bearer = VirtualKeyGatewayTests.bearer(key)
        let onTeamModel = try await harness.test { try await $0.post("/v1/messages", VirtualKeyGatewayTests.message("other"), headers: bearer) }
        #expect(onTeamModel.status == .ok)
        let offTeamModel = try await harness.test { try await $0.post("/v1/messages", VirtualKeyGatewayTests.message("claude-x"), headers: bearer) }
        #expect(offTeamModel.status == .forbidden, "a key without models of its own has its team's")

        let info = try await Self.get(harness, "/team/info?team_id=\(teamID)")
        #expect(info.json["keys"] as? [String] == [VirtualKey.hash(key)])
        let list = try await Self.get(harness, "/team/list")
        #expect(String(buffer: list.body).contains(teamID))

        let blocked = try await harness.test { try await $0.post("/team/update", #"{"team_id":"\#(teamID)","blocked":true}"#, headers: Self.master) }
        #expect(blocked.status == .ok)
        let refused = try await harness.test { try await $0.post("/v1/messages", VirtualKeyGatewayTests.message("other"), headers: bearer) }
        #expect(refused.status == .unauthorized)
        #expect(refused.errorMessage?.contains("blocked") == true)

        let deleted = try await harness.test { try await $0.post("/team/delete", #"{"team_ids":["\#(teamID)"]}"#, headers: Self.master) }
        #expect(deleted.json["deleted_teams"] as? [String] == [teamID])
        let free = try await harness.test { try await $0.post("/v1/messages", VirtualKeyGatewayTests.message("claude-x"), headers: bearer) }
        #expect(free.status == .ok, "a key whose team is gone keeps working, without the team's limits")

        let unknownField = try await harness.test { try await $0.post("/team/new", #"{"team_budget":5}"#, headers: Self.master) }
        #expect(unknownField.status == .badRequest)
        let asKey = try await Self.get(harness, "/team/list", headers: bearer)
        #expect(asKey.status == .forbidden)

        // Each refusal counted, by kind.
        #expect(harness.metric("switchboard_limit_rejections", ["key", "model"]) == 1)
        #expect(harness.metric("switchboard_auth_failures", ["team_blocked"]) == 1)
        #expect(harness.metric("switchboard_auth_failures", ["expired"]) == 0)
    }

    @Test("/spend/logs: one row per request on a key, with LiteLLM's field names, filtered by key and request")
    func spendLogs() async throws {
        let (harness, path) = try await VirtualKeyGatewayTests.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let generated = try await harness.test { try await $0.post("/key/generate", #"{"key_alias":"bob"}"#, headers: Self.master) }
        let key = try #require(generated.json["key"] as? String)
        for _ in 0..<2 {
            let response = try await harness.test {
                try await $0.post("/v1/messages", VirtualKeyGatewayTests.message("claude-x"), headers: VirtualKeyGatewayTests.bearer(key))
            }
            #expect(response.status == .ok)
        }
        let logs = try await Self.get(harness, "/spend/logs?api_key=\(key)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(logs.body.readableBytesView)) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0["key_alias"] as? String == "bob" && $0["model_group"] as? String == "claude-*" })
        #expect(rows.allSatisfy { ($0["api_key"] as? String)?.hasPrefix("sk-...") == true })
        #expect(!String(buffer: logs.body).contains(key), "the log never holds the key")
        let one = try #require(rows.first?["request_id"] as? String)
        let filtered = try await Self.get(harness, "/spend/logs?request_id=\(one)")
        #expect((try JSONSerialization.jsonObject(with: Data(filtered.body.readableBytesView)) as? [Any])?.count == 1)
        let badLimit = try await Self.get(harness, "/spend/logs?limit=0")
        #expect(badLimit.status == .badRequest)
    }
}
