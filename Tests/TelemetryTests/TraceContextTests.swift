import Telemetry
import Testing

@Suite("TraceContext: W3C traceparent and fresh ids")
struct TraceContextTests {
    @Test("traceparent: a valid one continues its trace; malformed ones start anew")
    func traceparent() {
        let context = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(context?.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context?.parentSpanID == "00f067aa0ba902b7")
        #expect(context?.spanID.count == 16)
        #expect(context?.spanID != "00f067aa0ba902b7")
        for bad in ["", "00-0000000000000000000000000000000-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-zz-01"] {
            #expect(TraceContext(traceparent: bad) == nil, "\(bad)")
        }
        let fresh = TraceContext()
        #expect(fresh.traceID.count == 32 && fresh.traceID.allSatisfy(\.isHexDigit))
    }

    @Test("fresh ids are lower-case hex of the right length, distinct across many refills of the random pool")
    func freshIdsAreDistinct() {
        let contexts = (0..<2_000).map { _ in TraceContext() }  // 3 words each: about 190 refills of the 32-word pool
        #expect(Set(contexts.map(\.traceID)).count == contexts.count)
        #expect(Set(contexts.map(\.spanID)).count == contexts.count)
        let hex = Set("0123456789abcdef")
        for context in contexts {
            #expect(context.traceID.count == 32 && context.traceID.allSatisfy(hex.contains))
            #expect(context.spanID.count == 16 && context.spanID.allSatisfy(hex.contains))
        }
        // Every digit turns up in every position: no stuck bits from the pool or the hex writer.
        for position in 0..<32 {
            let seen = Set(contexts.map { Array($0.traceID)[position] })
            #expect(seen == hex, "position \(position)")
        }
    }
}
