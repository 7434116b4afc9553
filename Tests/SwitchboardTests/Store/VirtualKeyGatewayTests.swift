import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Switchboard

/// Virtual keys through the gateway's router: LiteLLM's `/key/*` API with the master key, and requests on
/// the keys it makes.
@Suite("Virtual keys: LiteLLM's key API and the checks on every request")
struct VirtualKeyGatewayTests {
    static let master = "sk-master-test"

    static func start() async throws -> (GatewayHarness, String) {
        let path = SQLiteConnectionTests.temporaryPath()
        let yaml = """
            model_list:
              - {model_name: "claude-*", litellm_params: {model: mock/echo}}
              - {model_name: other, litellm_params: {model: mock/echo}}
            general_settings: {master_key: \(master), database_url: "sqlite://\(path)"}
            """
        let configuration = try ConfigurationLoader(environment: [:]).load(yaml: yaml).configuration
        let harness = try GatewayHarness(yaml: yaml, keys: await KeyDirectory(databasePath: try #require(configuration.databasePath)))
        return (harness, path)
    }

    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }

    static func message(_ model: String) -> String {
        #"{"model":"\#(model)","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#
    }

    @Test("the master key makes a key (LiteLLM's body and answer); the key works on the models it may use, and only those")
    func generateAndUse() async throws {
        let (harness, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let generated = try await harness.test { client in
            try await client.post(
                "/key/generate",
                #"{"key_alias":"alice-laptop","user_id":"alice","models":["claude-*"],"max_budget":25,"budget_duration":"30d","rpm_limit":60,"metadata":{"team":"platform"}}"#,
                headers: Self.bearer(Self.master)
            )
        }
        #expect(generated.status == .ok, "\(String(buffer: generated.body))")
        let key = try #require(generated.json["key"] as? String)
        #expect(key.hasPrefix("sk-"))
        #expect(generated.json["token"] as? String == VirtualKey.hash(key))
        #expect(generated.json["key_alias"] as? String == "alice-laptop")
        #expect(generated.json["budget_duration"] as? String == "30d")
        #expect(generated.json["budget_reset_at"] is String)

        let allowed = try await harness.test { client in
            try await client.post("/v1/messages", Self.message("claude-sonnet-4-5"), headers: [HTTPField.Name("x-api-key")!: key])
        }
        #expect(allowed.status == .ok)
        #expect(harness.recorder.all.last?.virtualKey?.alias == "alice-laptop")

        let denied = try await harness.test { client in
            try await client.post("/v1/messages", Self.message("other"), headers: Self.bearer(key))
        }
        #expect(denied.status == .forbidden)
        #expect(denied.errorType == "permission_error")
        #expect(denied.errorMessage?.contains("claude-*") == true)

        let administering = try await harness.test { client in
            try await client.post("/key/generate", "{}", headers: Self.bearer(key))
        }
        #expect(administering.status == .forbidden, "a virtual key does not administer keys")
    }

    @Test("unknown, blocked and deleted keys get 401; info and list show the hash, never the key")
    func lifecycle() async throws {
        let (harness, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let unknown = try await harness.test { client in
            try await client.post("/v1/messages", Self.message("claude-x"), headers: Self.bearer("sk-not-a-key"))
        }
        #expect(unknown.status == .unauthorized)

        let blocked = try await harness.test { client in
            try await client.post("/key/generate", #"{"key_alias":"frozen","blocked":true}"#, headers: Self.bearer(Self.master))
        }
        let blockedKey = try #require(blocked.json["key"] as? String)
        let refused = try await harness.test { client in
            try await client.post("/v1/messages", Self.message("claude-x"), headers: Self.bearer(blockedKey))
        }
        #expect(refused.status == .unauthorized)
        #expect(refused.errorMessage == "API key frozen is blocked")

        let made = try await harness.test { client in
            try await client.post("/key/generate", #"{"key_alias":"ci"}"#, headers: Self.bearer(Self.master))
        }
        let key = try #require(made.json["key"] as? String)
        let info = try await harness.test { client in
            try await client.execute(uri: "/key/info?key=\(key)", method: .get, headers: Self.bearer(Self.master), body: nil)
        }
        #expect(info.json["key"] as? String == VirtualKey.hash(key))
        #expect((info.json["info"] as? [String: Any])?["key_alias"] as? String == "ci")
        let list = try await harness.test { client in
            try await client.execute(uri: "/key/list", method: .get, headers: Self.bearer(Self.master), body: nil)
        }
        #expect((list.json["keys"] as? [String])?.contains(VirtualKey.hash(key)) == true)
        #expect(!String(buffer: list.body).contains(key))

        let deleted = try await harness.test { client in
            try await client.post("/key/delete", #"{"key_aliases":["ci"]}"#, headers: Self.bearer(Self.master))
        }
        #expect(deleted.json["deleted_keys"] as? [String] == ["ci"])
        let gone = try await harness.test { client in
            try await client.post("/v1/messages", Self.message("claude-x"), headers: Self.bearer(key))
        }
        #expect(gone.status == .unauthorized)
    }

    @Test(
        "bad input is a 400 naming the field",
        arguments: [
            (#"{"max_budget":-1}"#, "max_budget"), (#"{"budget_duration":"1w"}"#, "budget_duration"),
            (#"{"models":"claude-*"}"#, "models"), (#"{"spend_limit":5}"#, "spend_limit"), (#"{"duration":"soon"}"#, "duration"),
            (#"{"team_id":"no-such-team"}"#, "team_id"), ("[1]", "body"),
        ]
    )
    func badInput(body: String, field: String) async throws {
        let (harness, path) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let response = try await harness.test { client in
            try await client.post("/key/generate", body, headers: Self.bearer(Self.master))
        }
        #expect(response.status == .badRequest)
        #expect(response.errorMessage?.contains(field) == true, "\(response.errorMessage ?? "")")
    }

    @Test("an expired key is refused with when it expired; a key's models default to its team's")
    func expiryAndTeamModels() async throws {
        let path = SQLiteConnectionTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteGovernanceStore(path: path)
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        try store.insertTeam(TeamRecord(teamID: "t", models: ["claude-haiku-*"], createdAt: now, updatedAt: now))
        let directory = try await KeyDirectory(store: store)
        let (key, _) = try await directory.generate(KeyRecord(tokenHash: "", keyName: "", teamID: "t", expires: now, createdAt: now, updatedAt: now))
        #expect(try directory.authenticate(key, now: now.addingTimeInterval(-1)).allowedModels == ["claude-haiku-*"])
        #expect(throws: KeyRefusal.self) { try directory.authenticate(key, now: now) }
    }

    @Test("database_url: sqlite or postgresql, only with a master key; DATABASE_URL as LiteLLM reads it")
    func configuration() throws {
        func problem(_ general: String) -> String {
            let yaml = "model_list: [{model_name: m, litellm_params: {model: mock/echo}}]\ngeneral_settings: \(general)\n"
            do {
                _ = try ConfigurationLoader(environment: [:]).load(yaml: yaml)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(problem(#"{database_url: "sqlite:///tmp/x.db"}"#).contains("master_key"))
        #expect(problem(#"{master_key: k, database_url: "postgresql://db/x"}"#).contains("names no user"))
        #expect(problem(#"{master_key: k, database_url: "postgresql://u@db/x?sslmode=sometimes"}"#).contains("sslmode must be one of"))
        #expect(problem(#"{master_key: k, database_url: "postgresql://u@db/x", on_store_failure: maybe}"#).contains("fail_closed, fail_open, local"))
        #expect(problem(#"{master_key: k, database_url: "mysql://x"}"#).contains("postgresql://"))
        #expect(problem(#"{master_key: k, database_url: "postgresql://u:p%40ss@db.internal:6432/gw?sslmode=require", on_store_failure: fail_closed}"#).isEmpty)
        #expect(problem(#"{master_key: k, database_url: "sqlite:///tmp/x.db"}"#).isEmpty)

        let yaml = "model_list: [{model_name: m, litellm_params: {model: mock/echo}}]\ngeneral_settings: {master_key: k}\n"
        let fromEnvironment = try ConfigurationLoader(environment: ["DATABASE_URL": "postgresql://gw:s%2Fcret@10.0.0.5/switchboard"])
            .load(yaml: yaml).configuration
        guard case .postgres(let url)? = fromEnvironment.database else {
            Issue.record("DATABASE_URL names the database when the file does not")
            return
        }
        #expect(url.redacted == "postgresql://gw@10.0.0.5:5432/switchboard")
        #expect(url.password == "s/cret" && url.tls == .prefer)
        #expect(fromEnvironment.governance.onStoreFailure == .local)
    }
}
