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

    @Test("traceparent: only ASCII lower-case hex, exactly W3C's layout; fullwidth digits and upper case are refused")
    func traceparentIsStrictASCII() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        let fullwidthZero = "\u{FF10}"  // `０`: Character.isHexDigit says yes; its UTF-8 is 3 bytes
        let refused = [
            "00-\(fullwidthZero)bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-\(trace)-\(fullwidthZero)0f067aa0ba902b7-01",
            "00-\(trace)-00f067aa0ba902b7-\(fullwidthZero)1",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-\(trace)-00F067AA0BA902B7-01",
            "00-\(trace)-0000000000000000-01",
            "00-\(trace)-00f067aa0ba902b7-01-extra",  // version 00 has exactly four fields
            "00-\(trace)-00f067aa0ba902b7-0",
            "0-\(trace)-00f067aa0ba902b7-01x",
            "01-\(trace)-00f067aa0ba902b7-01x",  // a later version must follow the flags with `-` or end
        ]
        for header in refused {
            #expect(TraceContext(traceparent: header) == nil, "\(header)")
        }
        // A later version is read for its first four fields (and goes upstream as 00).
        let later = TraceContext(traceparent: "cc-\(trace)-00f067aa0ba902b7-01-what-comes-next")
        #expect(later?.traceID == trace)
        #expect(later?.traceparent.hasPrefix("00-\(trace)-") == true)
        #expect(TraceContext(traceparent: "00-\(trace)-00f067aa0ba902b7-00")?.isSampled == false)
        #expect(TraceContext(traceparent: "00-\(trace)-00f067aa0ba902b7-03")?.isSampled == true, "bits, not equality")
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
