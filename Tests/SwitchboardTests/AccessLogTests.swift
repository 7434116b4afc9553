import Foundation
import Logging
import Switchboard
import Synchronization
import Telemetry
import Testing

@Suite("The access log")
struct AccessLogTests {
    @Test("one JSON line per request with id, method, route, model, provider, status, duration; no key")
    func oneJSONLine() throws {
        let lines = Mutex<[String]>([])
        let handler = JSONLogHandler(label: "switchboard.access") { line in lines.withLock { $0.append(line) } }
        let log = AccessLog(logger: Logger(label: "switchboard.access", factory: { _ in handler }))
        var record = ExchangeRecord(requestID: "req-1", method: "POST", route: "/v1/messages", receivedAt: .now - .milliseconds(12))
        record.requestedModel = "claude-sonnet-4-5"
        record.provider = .mock
        record.status = 200
        record.timings[.finished] = .now
        log.exchangeDidFinish(record)

        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        #expect(written[0].hasSuffix("}\n"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any])
        #expect(json["request_id"] as? String == "req-1")
        #expect(json["method"] as? String == "POST")
        #expect(json["route"] as? String == "/v1/messages")
        #expect(json["model"] as? String == "claude-sonnet-4-5")
        #expect(json["provider"] as? String == "mock")
        #expect(json["status"] as? Int == 200)
        #expect((json["duration_ms"] as? Double ?? 0) >= 12)
        #expect(json["level"] as? String == "info")
        #expect(json["trace_id"] as? String == record.trace.traceID)
        #expect(json["session_id"] == nil, "no session, no field")
    }

    @Test("every line carries the trace id and the session; operational routes write none, unless configured")
    func traceSessionAndExcludedRoutes() throws {
        let lines = Mutex<[String]>([])
        let handler = JSONLogHandler(label: "switchboard.access") { line in lines.withLock { $0.append(line) } }
        let logger = Logger(label: "switchboard.access", factory: { _ in handler })
        func record(_ method: String, _ route: String, excluded: Bool = false) -> ExchangeRecord {
            var record = ExchangeRecord(requestID: "r", method: method, route: route)
            record.isExcluded = excluded
            record.sessionID = "a1b2c3d4-session"
            record.status = 200
            return record
        }
        let log = AccessLog(logger: logger)
        let operational = [("GET", "/metrics"), ("GET", "/health"), ("GET", "/health/ready"), ("HEAD", "/api/hello")]
        for (method, route) in operational {
            log.exchangeDidFinish(record(method, route, excluded: true))
        }
        #expect(lines.withLock { $0 }.isEmpty, "excluded requests are not logged")
        let message = record("POST", "/v1/messages")
        log.exchangeDidFinish(message)
        log.exchangeDidFinish(record("GET", "/api/hello"))
        let written = lines.withLock { $0 }
        #expect(written.count == 2)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any])
        #expect(json["trace_id"] as? String == message.trace.traceID)
        #expect(json["session_id"] as? String == "a1b2c3d4-session")

        log.exchangeDidFinish(record("GET", "/health"))
        #expect(lines.withLock { $0.count } == 3, "a probe not excluded is logged")
    }

    @Test("strings with quotes, newlines and control characters stay valid JSON")
    func escaping() throws {
        let lines = Mutex<[String]>([])
        let handler = JSONLogHandler(label: "t") { line in lines.withLock { $0.append(line) } }
        Logger(label: "t", factory: { _ in handler }).warning("a \"quoted\"\nline\u{1}", metadata: ["k": ["x": "y\\z"]])
        let line = try #require(lines.withLock { $0.first })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["message"] as? String == "a \"quoted\"\nline\u{1}")
        #expect((json["k"] as? [String: Any])?["x"] as? String == "y\\z")
    }
}
