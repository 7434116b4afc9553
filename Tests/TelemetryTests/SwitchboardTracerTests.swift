import Instrumentation
import Synchronization
import Testing
import Tracing

@testable import Telemetry

@Suite("The swift-distributed-tracing Tracer")
struct SwitchboardTracerTests {
    struct DictionaryExtractor: Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    struct DictionaryInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    @Test("extract continues the caller's trace; spans record attributes, events, status and links; inject writes traceparent")
    func endToEnd() {
        let recorded = Mutex<[SpanData]>([])
        let tracer = SwitchboardTracer { span in recorded.withLock { $0.append(span) } }
        var context = InstrumentationContext.topLevel
        tracer.extract(["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], into: &context, using: DictionaryExtractor())

        let span = tracer.startSpan("upstream call", context: context, ofKind: .client)
        span.attributes["gen_ai.request.model"] = "gemini-2.5-flash"
        span.attributes["gen_ai.usage.input_tokens"] = 42
        span.addEvent(SpanEvent(name: "gen_ai.tool.call", attributes: ["gen_ai.tool.name": "Read"]))
        var linked = InstrumentationContext.topLevel
        linked.traceContext = TraceContext(traceID: "11111111111111111111111111111111", spanID: "2222222222222222", parentSpanID: nil)
        span.addLink(SpanLink(context: linked, attributes: [:]))
        span.setStatus(SpanStatus(code: .error, message: "overloaded"))
        var headers: [String: String] = [:]
        tracer.inject(span.context, into: &headers, using: DictionaryInjector())
        span.end()
        span.end()  // a second end is ignored

        let spans = recorded.withLock { $0 }
        #expect(spans.count == 1)
        let data = spans[0]
        #expect(data.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(data.parentSpanID == "00f067aa0ba902b7")
        #expect(data.parentIsRemote)
        #expect(data.kind == .client)
        #expect(data.attributes["gen_ai.request.model"] == "gemini-2.5-flash")
        #expect(data.attributes["gen_ai.usage.input_tokens"] == .int(42))
        #expect(data.events.first?.name == "gen_ai.tool.call")
        #expect(data.links.first?.spanID == "2222222222222222")
        #expect(data.status == .error)
        #expect(data.statusMessage == "overloaded")
        #expect(headers["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-\(data.spanID)-01")
        #expect(data.endUnixNano >= data.startUnixNano)
    }

    @Test("a caller's unsampled trace records no span, and says so to the next hop")
    func unsampledCaller() {
        let recorded = Mutex<[SpanData]>([])
        let tracer = SwitchboardTracer { span in recorded.withLock { $0.append(span) } }
        for flags in ["00", "01"] {
            var context = InstrumentationContext.topLevel
            tracer.extract(["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-\(flags)"], into: &context, using: DictionaryExtractor())
            let span = tracer.startSpan("upstream call", context: context, ofKind: .client)
            #expect(span.isRecording == (flags == "01"))
            var headers: [String: String] = [:]
            tracer.inject(span.context, into: &headers, using: DictionaryInjector())
            span.end()
            #expect(headers["traceparent"]?.hasSuffix("-\(flags)") == true)
        }
        #expect(recorded.withLock { $0.count } == 1, "only the sampled caller's span")
    }

    @Test("without a caller, a span starts a new trace")
    func newTrace() {
        let recorded = Mutex<[SpanData]>([])
        let tracer = SwitchboardTracer { span in recorded.withLock { $0.append(span) } }
        tracer.startSpan("work", context: .topLevel, ofKind: .internal).end()
        let span = recorded.withLock { $0.first }
        #expect(span?.traceID.count == 32)
        #expect(span?.parentSpanID == nil)
    }
}
