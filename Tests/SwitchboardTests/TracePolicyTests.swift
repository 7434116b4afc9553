import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Switchboard
import Synchronization
import Telemetry
import Testing

@Suite("Which requests are traced: the sampler and the excluded routes, applied where the trace starts")
struct TracePolicyTests {
    static let yaml = "model_list: [{model_name: echo, litellm_params: {model: mock/echo}}]"
    static let message = #"{"model":"echo","max_tokens":8,"messages":[{"role":"user","content":"x"}]}"#

    /// SERVER spans `TracingObserver` makes of `records` (one per traced request).
    static func spans(_ records: [ExchangeRecord]) -> [SpanData] {
        let spans = Mutex<[SpanData]>([])
        let tracing = TracingObserver { span in spans.withLock { $0.append(span) } }
        records.forEach(tracing.exchangeDidFinish)
        return spans.withLock { $0 }.filter { $0.kind == .server }
    }

    @Test("scrapes, probes and the warm-up make no span and no exemplar; a message request does")
    func operationalRoutesAreNotTraced() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        _ = try await harness.test { client in
            let operational: [(String, HTTPRequest.Method)] = [
                ("/health", .get), ("/health/ready", .get), ("/metrics", .get), ("/api/hello", .head),
            ]
            for (uri, method) in operational {
                #expect(try await client.execute(uri: uri, method: method).status == .ok)
            }
            _ = try await client.post("/v1/messages", Self.message)
        }
        let records = harness.recorder.all
        #expect(records.map(\.route) == ["/health", "/health/ready", "/metrics", "/api/hello", "/v1/messages"])
        #expect(records.map(\.trace.isSampled) == [false, false, false, false, true])
        #expect(records.map(\.isExcluded) == [true, true, true, true, false], "and so no access-log line")
        #expect(Self.spans(records).map(\.name) == ["POST /v1/messages"])
        let exposition = MetricsExposition.render(harness.registry, format: .openMetrics)
        for record in records.dropLast() { #expect(!exposition.contains(record.trace.traceID)) }

        let everything = try GatewayHarness(yaml: Self.yaml, environment: ["SWITCHBOARD_EXCLUDED_ROUTES": "none"])
        _ = try await everything.test { client in try await client.execute(uri: "/health", method: .get) }
        #expect(everything.recorder.all.map(\.trace.isSampled) == [true], "configurable: nothing excluded")
        #expect(everything.recorder.all.map(\.isExcluded) == [false], "and so the probe is logged")
    }

    @Test("OTEL_TRACES_SAMPLER decides fresh traces and, unless parent-based, callers' too; the flag travels on")
    func samplerFromEnvironment() async throws {
        let caller = "4bf92f3577b34da6a3ce929d0e0e4736"
        let traceparent: HTTPFields = [HTTPField.Name("traceparent")!: "00-\(caller)-00f067aa0ba902b7-01"]
        for (sampler, fresh, callerSampled) in [
            ("always_off", false, false), ("parentbased_always_off", false, true),
            ("parentbased_always_on", true, true),
        ] {
            let harness = try GatewayHarness(yaml: Self.yaml, environment: ["OTEL_TRACES_SAMPLER": sampler])
            _ = try await harness.test { client in
                _ = try await client.post("/v1/messages", Self.message)
                _ = try await client.post("/v1/messages", Self.message, headers: traceparent)
            }
            let records = harness.recorder.all
            #expect(records.map(\.trace.isSampled) == [fresh, callerSampled], "\(sampler)")
            #expect(records[1].trace.traceID == caller, "\(sampler): the caller's trace continues either way")
            let flags = records.map { $0.trace.child().traceparent.hasSuffix("-01") }
            #expect(flags == [fresh, callerSampled], "\(sampler): what goes upstream")
            #expect(Self.spans(records).count == [fresh, callerSampled].filter { $0 }.count, "\(sampler)")
        }
    }
}
