import Foundation
import Logging
import Synchronization
import Telemetry
import Testing

@testable import Switchboard

@Suite("The access log names a request's virtual key and team, or why its key was refused")
struct KeyAccessLogTests {
    static func line(_ change: (inout ExchangeRecord) -> Void) throws -> [String: Any] {
        let lines = Mutex<[String]>([])
        let handler = JSONLogHandler(label: "switchboard.access") { line in lines.withLock { $0.append(line) } }
        let log = AccessLog(logger: Logger(label: "switchboard.access", factory: { _ in handler }))
        var record = ExchangeRecord(requestID: "req-1", method: "POST", route: "/v1/messages")
        record.status = 200
        change(&record)
        log.exchangeDidFinish(record)
        let written = try #require(lines.withLock { $0.first })
        return try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any])
    }

    @Test("alias and team; a key without an alias by its sk-... name; never the hash")
    func identity() async throws {
        let json = try Self.line { record in
            record.virtualKey = KeyIdentity(
                tokenHash: "secret-hash", keyName: "sk-...abcd", alias: "alice", teamID: "platform", userID: "alice",
                allowedModels: [], scopes: []
            )
        }
        #expect(json["key_alias"] as? String == "alice")
        #expect(json["team_id"] as? String == "platform")
        #expect(!(try JSONSerialization.data(withJSONObject: json)).contains("secret-hash".utf8))
        let unnamed = try Self.line { record in
            record.virtualKey = KeyIdentity(
                tokenHash: "h", keyName: "sk-...abcd", alias: nil, teamID: nil, userID: nil, allowedModels: [], scopes: []
            )
        }
        #expect(unnamed["key_alias"] as? String == "sk-...abcd")
        #expect(unnamed["team_id"] == nil)
    }

    @Test("a refusal says which: key_refused")
    func refusal() async throws {
        #expect(try Self.line { $0.keyRefusal = .authentication(reason: "expired") }["key_refused"] as? String == "expired")
        let budget = try Self.line { $0.keyRefusal = .limit(scope: "team", kind: "budget", key: KeyLabel(alias: "bob", teamID: "t2")) }
        #expect(budget["key_refused"] as? String == "team_budget")
        #expect(budget["key_alias"] as? String == "bob" && budget["team_id"] as? String == "t2", "a refused key is named too")
    }
}

extension Data {
    fileprivate func contains(_ bytes: String.UTF8View) -> Bool {
        self.range(of: Data(bytes)) != nil
    }
}
