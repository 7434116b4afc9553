import Foundation
import NIOCore
import SwitchboardTesting
import Testing
import Upstream

@Suite("Fault plans: parsing, seeded draws, and the faults the fake Gemini delivers")
struct FaultPlanTests {
    // MARK: - Specs

    @Test("a spec gives each fault its probability and sets the parameters; entry order does not matter")
    func parsing() throws {
        let plan = try FaultPlan(spec: "429=0.08, 503=0.06,reset_mid_stream=0.03,stall=0,seed=7,slow_ms=50,stall_ms=90")
        #expect(plan.probabilities == [.rateLimited: 0.08, .unavailable: 0.06, .resetMidStream: 0.03])
        #expect(plan.parameters.seed == 7)
        #expect(plan.parameters.slowHead == .milliseconds(50))
        #expect(plan.parameters.stallLimit == .milliseconds(90))
        #expect(plan.parameters.retryDelay == .seconds(1), "the default")
        let reordered = try FaultPlan(spec: "stall_ms=90,seed=7,reset_mid_stream=0.03,slow_ms=50,503=0.06,429=0.08")
        #expect(reordered == plan)
        #expect(try FaultPlan(spec: plan.description) == plan, "the description is a spec for the same plan")
    }

    @Test("an empty spec or `none` is a plan without faults: every draw is clean", arguments: ["", "none", " "])
    func noFaults(spec: String) throws {
        var sampler = try FaultPlan(spec: spec).sampler()
        #expect((0..<1000).allSatisfy { _ in sampler.next() == nil })
    }

    @Test(
        "a bad spec is refused with what is wrong in it",
        arguments: [
            ("429", #""429": expected NAME=VALUE"#),
            ("429=0.1,", #""": expected NAME=VALUE"#),
            ("=0.1", #""=0.1": expected NAME=VALUE"#),
            ("418=0.1", #"unknown name "418"; known: 429, 503, 500, reset_before_head"#),
            ("429=1.5", "429=1.5: expected a probability between 0 and 1"),
            ("503=often", "503=often: expected a probability between 0 and 1"),
            ("429=0.6,503=0.5", "the fault probabilities add up to 1.1"),
            ("429=0.1,429=0.2", #""429" is given twice"#),
            ("seed=-1", "seed=-1: expected a whole number"),
            ("stall_ms=700000", "stall_ms=700000: expected whole milliseconds from 0 to 600000"),
            ("slow_ms=0.5", "slow_ms=0.5: expected whole milliseconds"),
        ]
    )
    func badSpec(spec: String, message: String) {
        #expect {
            _ = try FaultPlan(spec: spec)
        } throws: { error in
            (error as? FaultPlan.SpecError)?.description.contains(message) == true
        }
    }

    // MARK: - Draws

    @Test("one seed, one sequence of draws; another seed, another; a spec's own seed beats the default")
    func seededDeterminism() throws {
        let spec = "429=0.2,503=0.2,garbage=0.2,stall=0.1"
        func draws(_ plan: FaultPlan) -> [FaultPlan.Fault?] {
            var sampler = plan.sampler()
            return (0..<500).map { _ in sampler.next() }
        }
        let first = draws(try FaultPlan(spec: spec, seed: 42))
        #expect(first == draws(try FaultPlan(spec: spec, seed: 42)))
        #expect(first != draws(try FaultPlan(spec: spec, seed: 43)))
        #expect(first == draws(try FaultPlan(spec: spec + ",seed=42", seed: 99)))
        #expect(Set(first.compactMap { $0 }) == [.rateLimited, .unavailable, .garbage, .stall])
    }

    @Test("over many draws each fault comes about as often as its probability says, and the rest are clean")
    func distribution() throws {
        let spec = "429=0.08,503=0.06,500=0.04,reset_before_head=0.03,reset_mid_stream=0.03,truncated=0.03,"
            + "garbage=0.03,stall=0.02,slow_head=0.02"
        let plan = try FaultPlan(spec: spec, seed: 2026)
        var sampler = plan.sampler()
        let draws = 100_000
        var counts: [FaultPlan.Fault?: Int] = [:]
        for _ in 0..<draws { counts[sampler.next(), default: 0] += 1 }
        // Five standard deviations at p = 0.08 are under 0.005: a correct sampler stays inside, and a
        // sampler that shifted one threshold by an entry would not.
        for (fault, probability) in plan.probabilities {
            let share = Double(counts[fault] ?? 0) / Double(draws)
            #expect(abs(share - probability) < 0.005, "\(fault.rawValue): \(share) for \(probability)")
        }
        #expect(abs(Double(counts[nil] ?? 0) / Double(draws) - 0.66) < 0.006)
        #expect(counts.keys.compactMap { $0 }.allSatisfy { plan.probabilities[$0] != nil })
    }

    @Test("a certain fault is drawn every time")
    func certainty() throws {
        var sampler = try FaultPlan(spec: "truncated=1.0").sampler()
        #expect((0..<1000).allSatisfy { _ in sampler.next() == .truncated })
    }

    // MARK: - On the wire

    /// A fake Gemini and a client to it; `body` gets the fake and a function that asks it for an answer
    /// under the plan `spec` (by path prefix), streamed or not.
    static func withFake(
        _ body: (FakeGeminiServer, _ ask: (String, Bool) async throws -> UpstreamResponse) async throws -> Void
    ) async throws {
        let fake = try await FakeGeminiServer.start(apiKey: "k")
        let client = UpstreamClient(configuration: .init(idleTimeout: .seconds(10), proxy: .none))
        func ask(_ spec: String, _ streamed: Bool) async throws -> UpstreamResponse {
            let method = streamed ? "streamGenerateContent?alt=sse" : "generateContent"
            let url = "\(fake.baseURL)/faults/\(spec)/v1beta/models/gemini-2.5-flash:\(method)"
            let body = #"{"contents":[{"role":"user","parts":[{"text":"tell me something long enough"}]}]}"#
            let request = UpstreamRequest(
                method: "POST",
                url: url,
                headers: ["x-goog-api-key": "k", "content-type": "application/json"],
                body: ByteBuffer(string: body)
            )
            return try await client.execute(request)
        }
        do {
            try await body(fake, ask)
        } catch {
            await client.shutdown()
            await fake.stop()
            throw error
        }
        await client.shutdown()
        await fake.stop()
    }

    /// The body as text, and the error that ended it early, if one did.
    static func read(_ response: UpstreamResponse) async -> (text: String, error: (any Error)?) {
        var text = ""
        do {
            for try await chunk in response.body { text += String(buffer: chunk) }
            return (text, nil)
        } catch {
            return (text, error)
        }
    }

    static func stats(_ fake: FakeGeminiServer, plan: String) async throws -> [String: Any] {
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let response = try await client.execute(UpstreamRequest(method: "GET", url: fake.baseURL + "/_fake/stats"))
        let body = try await response.collectBody(upTo: 1 << 20)
        await client.shutdown()
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        return try #require((stats["plans"] as? [String: Any])?[plan] as? [String: Any])
    }

    @Test("429 carries Gemini's RetryInfo with the plan's delay; 503 and 500 are Google's error bodies")
    func statusFaults() async throws {
        try await Self.withFake { fake, ask in
            let limited = try await ask("429=1,retry_ms=250", true)
            #expect(limited.status == 429)
            let body = await Self.read(limited).text
            let error = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])["error"]
                as? [String: Any]
            #expect(error?["status"] as? String == "RESOURCE_EXHAUSTED")
            let details = (error?["details"] as? [[String: Any]]) ?? []
            let retryInfo = details.first { $0["@type"] as? String == "type.googleapis.com/google.rpc.RetryInfo" }
            #expect(retryInfo?["retryDelay"] as? String == "0.250s")

            let unavailable = try await ask("503=1", false)
            #expect(unavailable.status == 503)
            #expect(await Self.read(unavailable).text.contains(#""status":"UNAVAILABLE""#))
            let internalError = try await ask("500=1", false)
            #expect(internalError.status == 500)
            #expect(await Self.read(internalError).text.contains(#""status":"INTERNAL""#))

            let stats = try await Self.stats(fake, plan: "429=1,retry_ms=250")
            #expect((stats["faults"] as? [String: Int])?["429"] == 1)
            #expect((stats["streamed_faults"] as? [String: Int])?["429"] == 1)
            #expect(stats["mid_stream_faults"] as? Int == 0, "a status fault comes before any content")
        }
    }

    @Test("reset before the head: no answer; on a reused connection curl resends it unseen, and the fake says so")
    func resetBeforeHead() async throws {
        try await Self.withFake { fake, ask in
            // A first answer leaves its connection open for the next request to reuse.
            #expect(try await ask("500=1", false).status == 500)
            await #expect(throws: UpstreamError.self) { _ = try await ask("reset_before_head=1", false) }
            let stats = try await Self.stats(fake, plan: "reset_before_head=1")
            #expect(stats["resets_on_reused_connections"] as? Int == 1)
            #expect((stats["faults"] as? [String: Int])?["reset_before_head"] == 2, "the reset, and curl's resend")
        }
    }

    @Test(
        "mid-stream faults send content, then break off: reset, stall then reset, clean end unfinished, garbage",
        arguments: [
            ("reset_mid_stream=1", true, false),
            ("stall=1,stall_ms=100", true, false),
            ("truncated=1", false, false),
            ("garbage=1", false, true),
        ]
    )
    func midStream(spec: String, breaksTransport: Bool, sendsGarbage: Bool) async throws {
        try await Self.withFake { fake, ask in
            let response = try await ask(spec, true)
            #expect(response.status == 200)
            let (text, error) = await Self.read(response)
            let lines = Self.dataLines(text)
            let first = try #require(lines.first)
            #expect(Self.isJSON(first) && first.contains(#""text":"fake-gemini"#), "content first: \(text)")
            #expect(!text.contains("finishReason"), "an answer that breaks off never finishes: \(text)")
            #expect((error != nil) == breaksTransport, "\(String(describing: error))")
            #expect(lines.filter { !Self.isJSON($0) }.count == (sendsGarbage ? 1 : 0), "\(lines)")
            let stats = try await Self.stats(fake, plan: spec)
            #expect(stats["mid_stream_faults"] as? Int == 1)
            #expect(stats["clean"] as? Int == 0)
        }
    }

    @Test("garbage first: a stream whose first line is not JSON, before any content")
    func garbageFirst() async throws {
        try await Self.withFake { fake, ask in
            let (text, error) = await Self.read(try await ask("garbage_first=1", true))
            #expect(error == nil)
            #expect(Self.dataLines(text).count == 1 && !Self.isJSON(Self.dataLines(text)[0]), "\(text)")
            #expect(try await Self.stats(fake, plan: "garbage_first=1")["mid_stream_faults"] as? Int == 0)
        }
    }

    @Test(
        "a JSON answer breaks before the client could use any of it: half a body, or a body that is not JSON",
        arguments: [("reset_mid_stream=1", true), ("stall=1,stall_ms=100", true), ("truncated=1", false),
                    ("garbage=1", false), ("garbage_first=1", false)]
    )
    func unaryFaults(spec: String, breaksTransport: Bool) async throws {
        try await Self.withFake { fake, ask in
            let response = try await ask(spec, false)
            #expect(response.status == 200)
            let (text, error) = await Self.read(response)
            #expect((error != nil) == breaksTransport, "\(String(describing: error))")
            #expect(!Self.isJSON(Substring(text)), "\(text)")
            let stats = try await Self.stats(fake, plan: spec)
            #expect(stats["mid_stream_faults"] as? Int == 0, "only streamed answers count as mid-stream")
            #expect((stats["faults"] as? [String: Int])?.values.reduce(0, +) == 1)
        }
    }

    @Test("slow head: the whole answer, late; a clean draw counts as clean; a bad plan in the path is a 400")
    func slowHeadCleanAndBadPlan() async throws {
        try await Self.withFake { fake, ask in
            let (text, error) = await Self.read(try await ask("slow_head=1,slow_ms=30", true))
            #expect(error == nil && text.contains(#""finishReason":"STOP""#), "\(text)")
            let clean = await Self.read(try await ask("slow_head=0", false))
            #expect(clean.text.contains(#""finishReason":"STOP""#))
            #expect(try await Self.stats(fake, plan: "slow_head=0")["clean"] as? Int == 1)
            let refused = try await ask("slow_head=2", false)
            #expect(refused.status == 400)
            let message = await Self.read(refused).text
            #expect(message.contains("slow_head=2: expected a probability between 0 and 1"), "\(message)")
        }
    }

    static func dataLines(_ text: String) -> [Substring] {
        text.split(separator: "\r\n").filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }
    }

    static func isJSON(_ text: Substring) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil
    }
}
