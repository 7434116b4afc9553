import Testing

@testable import Telemetry

@Suite("TraceSampler: OTEL_TRACES_SAMPLER's samplers, decided per trace id")
struct TraceSamplerTests {
    static let caller = "4bf92f3577b34da6a3ce929d0e0e4736"

    static func incoming(sampled: Bool) -> TraceContext {
        TraceContext(traceparent: "00-\(Self.caller)-00f067aa0ba902b7-\(sampled ? "01" : "00")")!
    }

    static func sampler(_ name: String, _ argument: String? = nil) -> (TraceSampler, [String]) {
        var environment = ["OTEL_TRACES_SAMPLER": name]
        environment["OTEL_TRACES_SAMPLER_ARG"] = argument
        return TraceSampler.fromEnvironment(environment)
    }

    @Test("each named sampler decides fresh and continued traces as the OpenTelemetry SDK specifies")
    func namedSamplers() {
        // (name, fresh trace, caller sampled, caller not sampled)
        let table: [(String, Bool, Bool, Bool)] = [
            ("always_on", true, true, true),
            ("always_off", false, false, false),
            ("parentbased_always_on", true, true, false),
            ("parentbased_always_off", false, true, false),
            ("PARENTBASED_ALWAYS_OFF", false, true, false),
        ]
        for (name, fresh, callerSampled, callerNotSampled) in table {
            let (sampler, warnings) = Self.sampler(name)
            #expect(warnings.isEmpty, "\(name)")
            #expect(sampler.sample(TraceContext()).isSampled == fresh, "\(name): a trace starting here")
            #expect(sampler.sample(Self.incoming(sampled: true)).isSampled == callerSampled, "\(name)")
            #expect(sampler.sample(Self.incoming(sampled: false)).isSampled == callerNotSampled, "\(name)")
        }
        #expect(TraceSampler.fromEnvironment([:]).0 == .parentBasedAlwaysOn, "the specification's default")
    }

    @Test("traceidratio keeps about the ratio, the same traces every time, and by the id's last 8 bytes")
    func ratio() {
        let (sampler, warnings) = Self.sampler("traceidratio", "0.25")
        #expect(warnings.isEmpty)
        let traces = (0..<20_000).map { _ in TraceContext() }
        let kept = traces.filter { sampler.shouldSample($0) }
        #expect((4_400...5_600).contains(kept.count), "\(kept.count) of 20000 at 0.25")
        #expect(traces.allSatisfy { sampler.shouldSample($0) == sampler.shouldSample($0) }, "deterministic")
        // Another service with the same ratio agrees, whatever the caller's flag said (not parent-based).
        let span = "00f067aa0ba902b7"
        let low = TraceContext(
            traceID: "ffffffffffffffff0000000000000001", spanID: span, parentSpanID: "1", isSampled: false
        )
        let high = TraceContext(traceID: "00000000000000007fffffffffffffff", spanID: span, parentSpanID: nil)
        #expect(sampler.shouldSample(low), "the first 8 bytes do not matter")
        #expect(!sampler.shouldSample(high))
        #expect(Self.sampler("traceidratio", "1").0.shouldSample(high))
        #expect(!Self.sampler("traceidratio", "0").0.shouldSample(low))
        // Parent-based: the caller's decision wins; a fresh trace goes by its id.
        let parentBased = Self.sampler("parentbased_traceidratio", "0").0
        #expect(parentBased.sample(Self.incoming(sampled: true)).isSampled)
        #expect(!parentBased.sample(TraceContext()).isSampled)
    }

    @Test("an unusable sampler or ratio is a warning and the default, never a failure")
    func invalidValues() {
        for argument in ["1.5", "-0.1", "nan", "inf", "abc", "0x1p-2", "１"] {
            let (sampler, warnings) = Self.sampler("traceidratio", argument)
            #expect(sampler == TraceSampler(root: .traceIDRatio(1), isParentBased: false), "\(argument)")
            #expect(warnings.count == 1 && warnings[0].contains("OTEL_TRACES_SAMPLER_ARG"), "\(argument)")
        }
        let (sampler, warnings) = Self.sampler("jaeger_remote")
        #expect(sampler == .parentBasedAlwaysOn)
        #expect(warnings.count == 1 && warnings[0].contains("jaeger_remote"))
    }

    @Test("the sampled flag travels: an unsampled trace's children and traceparent say 00")
    func flagTravels() {
        let unsampled = TraceSampler(root: .alwaysOff, isParentBased: false).sample(TraceContext())
        #expect(!unsampled.isSampled)
        #expect(unsampled.child().traceparent.hasSuffix("-00"))
        #expect(unsampled.child().traceID == unsampled.traceID)
    }
}
