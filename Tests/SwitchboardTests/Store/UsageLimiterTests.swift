import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Switchboard

@Suite("Rate limits per key and team: requests and tokens a minute, requests in flight")
struct UsageLimiterTests {
    static let minuteStart = Date(timeIntervalSince1970: 1_780_000_020)  // a whole minute
    static let key = UsageLimiter.Scope(kind: .key, id: "hash", label: "alice")
    static let team = UsageLimiter.Scope(kind: .team, id: "t", label: "platform")

    @Test("rpm: the limit's worth of requests a minute, then a 429 with retry-after to the minute's end and Anthropic's headers")
    func requestsPerMinute() async throws {
        let limiter = UsageLimiter()
        let limits = SpendLimits(rpmLimit: 2)
        let now = Self.minuteStart.addingTimeInterval(15)
        for _ in 0..<2 {
            try limiter.admit([(Self.key, limits)], now: now)
            limiter.release([Self.key], tokens: 0, now: now)
        }
        do {
            try limiter.admit([(Self.key, limits)], now: now)
            Issue.record("the third request of the minute was admitted")
        } catch {
            #expect(error.error.statusCode == 429 && error.error.type == "rate_limit_error")
            #expect(error.error.headers["retry-after"] == "45")
            #expect(error.error.headers["anthropic-ratelimit-requests-limit"] == "2")
            #expect(error.error.headers["anthropic-ratelimit-requests-remaining"] == "0")
            #expect(error.error.headers["anthropic-ratelimit-requests-reset"] != nil)
            #expect(error.error.message.contains("alice") && error.error.message.contains("rpm_limit"))
        }
        try limiter.admit([(Self.key, limits)], now: Self.minuteStart.addingTimeInterval(60))  // the next minute starts afresh
    }

    @Test("tpm counts the tokens of finished requests; parallel counts those in flight, freed when they end")
    func tokensAndParallel() async throws {
        let limiter = UsageLimiter()
        let now = Self.minuteStart.addingTimeInterval(1)
        let tokens = SpendLimits(tpmLimit: 1_000)
        try limiter.admit([(Self.key, tokens)], now: now)
        limiter.release([Self.key], tokens: 1_200, now: now)
        #expect(throws: KeyRefusal.self) { try limiter.admit([(Self.key, tokens)], now: now) }

        let parallel = SpendLimits(maxParallelRequests: 1)
        try limiter.admit([(Self.team, parallel)], now: now)
        #expect(throws: KeyRefusal.self) { try limiter.admit([(Self.team, parallel)], now: now) }
        limiter.release([Self.team], tokens: 0, now: now)
        try limiter.admit([(Self.team, parallel)], now: now)
    }

    @Test("a refusal by the team counts nothing against the key")
    func allOrNothing() async throws {
        let limiter = UsageLimiter()
        let now = Self.minuteStart
        try limiter.admit([(Self.team, SpendLimits(maxParallelRequests: 1))], now: now)
        #expect(throws: KeyRefusal.self) {
            try limiter.admit([(Self.key, SpendLimits(rpmLimit: 1)), (Self.team, SpendLimits(maxParallelRequests: 1))], now: now)
        }
        try limiter.admit([(Self.key, SpendLimits(rpmLimit: 1))], now: now)
    }

    /// Rate windows are calendar minutes (as LiteLLM's): a test whose requests must share one starts well
    /// inside a minute, or two requests either side of its end would both be admitted.
    static func insideOneMinute() async throws {
        let second = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 60)
        if second > 50 { try await Task.sleep(for: .seconds(61 - second)) }
    }

    @Test("through the gateway: a key's rpm_limit answers 429 with retry-after; another key is not affected")
    func gateway() async throws {
        try await Self.insideOneMinute()
        let (harness, path) = try await VirtualKeyGatewayTests.start()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let master = VirtualKeyGatewayTests.bearer(VirtualKeyGatewayTests.master)
        let limited = try await harness.test { try await $0.post("/key/generate", #"{"rpm_limit":1}"#, headers: master) }
        let free = try await harness.test { try await $0.post("/key/generate", "{}", headers: master) }
        let limitedKey = try #require(limited.json["key"] as? String)
        let freeKey = try #require(free.json["key"] as? String)
        let message = VirtualKeyGatewayTests.message("claude-x")
        let first = try await harness.test { try await $0.post("/v1/messages", message, headers: VirtualKeyGatewayTests.bearer(limitedKey)) }
        #expect(first.status == .ok)
        let second = try await harness.test { try await $0.post("/v1/messages", message, headers: VirtualKeyGatewayTests.bearer(limitedKey)) }
        #expect(second.status == .tooManyRequests)
        #expect(second.headers[HTTPField.Name("retry-after")!] != nil)
        #expect(second.headers[HTTPField.Name("anthropic-ratelimit-requests-limit")!] == "1")
        let other = try await harness.test { try await $0.post("/v1/messages", message, headers: VirtualKeyGatewayTests.bearer(freeKey)) }
        #expect(other.status == .ok)
        #expect(harness.metric("switchboard_limit_rejections", ["key", "rpm"]) == 1)
    }
}
