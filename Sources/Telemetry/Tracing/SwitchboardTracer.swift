import Foundation
import Instrumentation
import Synchronization
import Tracing

/// swift-distributed-tracing's `Tracer`, recording into the batch span processor.
///
/// Bootstrapped at start, so libraries that trace through swift-distributed-tracing add their spans
/// to the same traces as Switchboard's. It speaks W3C Trace Context: `extract` continues the
/// caller's trace from `traceparent`, `inject` writes ours into outgoing requests.
public struct SwitchboardTracer: Tracer {
    public typealias Span = SwitchboardSpan

    let record: @Sendable (SpanData) -> Void

    /// A tracer whose finished spans go to `record` (the batch processor's `onEnd`).
    public init(record: @escaping @Sendable (SpanData) -> Void) {
        self.record = record
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> SwitchboardSpan {
        var context = context()
        let parent = context.traceContext
        let trace = parent?.child() ?? TraceContext()
        context.traceContext = trace
        return SwitchboardSpan(
            name: operationName,
            kind: kind,
            trace: trace,
            parentIsRemote: context.parentIsRemote,
            context: context,
            start: instant().nanosecondsSinceEpoch,
            record: self.record
        )
    }

    public func forceFlush() {}

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier,
        into context: inout InstrumentationContext,
        using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier),
            let incoming = TraceContext(traceparent: header)
        else { return }
        // The caller's span is the parent of whatever starts from this context.
        context.traceContext = TraceContext(
            traceID: incoming.traceID,
            spanID: incoming.parentSpanID ?? incoming.spanID,
            parentSpanID: nil,
            isSampled: incoming.isSampled
        )
        context.parentIsRemote = true
    }

    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext,
        into carrier: inout Carrier,
        using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let trace = context.traceContext else { return }
        injector.inject(trace.traceparent, forKey: "traceparent", into: &carrier)
    }
}

/// A span being recorded; ends once (later `end` calls are ignored).
public final class SwitchboardSpan: Tracing.Span {
    private struct State {
        var name: String
        var attributes = SpanAttributes()
        var events: [SpanData.Event] = []
        var links: [SpanData.Link] = []
        var status: SpanStatus?
        var isEnded = false
    }

    public let context: InstrumentationContext
    private let kind: SpanKind
    private let trace: TraceContext
    private let parentIsRemote: Bool
    private let start: UInt64
    private let record: @Sendable (SpanData) -> Void
    private let state: Mutex<State>

    init(
        name: String,
        kind: SpanKind,
        trace: TraceContext,
        parentIsRemote: Bool,
        context: InstrumentationContext,
        start: UInt64,
        record: @escaping @Sendable (SpanData) -> Void
    ) {
        self.kind = kind
        self.trace = trace
        self.parentIsRemote = parentIsRemote
        self.context = context
        self.start = start
        self.record = record
        self.state = Mutex(State(name: name))
    }

    public var operationName: String {
        get { self.state.withLock { $0.name } }
        set { self.state.withLock { $0.name = newValue } }
    }

    public var attributes: SpanAttributes {
        get { self.state.withLock { $0.attributes } }
        set { self.state.withLock { $0.attributes = newValue } }
    }

    /// False for a span its caller did not sample: libraries can skip building what is never exported.
    public var isRecording: Bool { self.trace.isSampled && self.state.withLock { !$0.isEnded } }

    public func setStatus(_ status: SpanStatus) {
        self.state.withLock { $0.status = status }
    }

    public func addEvent(_ event: SpanEvent) {
        let converted = SpanData.Event(
            name: event.name,
            timeUnixNano: event.nanosecondsSinceEpoch,
            attributes: Self.convert(event.attributes)
        )
        self.state.withLock { $0.events.append(converted) }
    }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        var converted = Self.convert(attributes)
        converted["exception.type"] = .string(String(describing: type(of: error)))
        converted["exception.message"] = .string(String(describing: error))
        let event = SpanData.Event(name: "exception", timeUnixNano: instant().nanosecondsSinceEpoch, attributes: converted)
        self.state.withLock { $0.events.append(event) }
    }

    public func addLink(_ link: SpanLink) {
        guard let trace = link.context.traceContext else { return }
        let converted = SpanData.Link(traceID: trace.traceID, spanID: trace.spanID, attributes: Self.convert(link.attributes))
        self.state.withLock { $0.links.append(converted) }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let end = instant().nanosecondsSinceEpoch
        let finished = self.state.withLock { state -> State? in
            guard !state.isEnded else { return nil }
            state.isEnded = true
            return state
        }
        guard let finished, self.trace.isSampled else { return }
        self.record(
            SpanData(
                traceID: self.trace.traceID,
                spanID: self.trace.spanID,
                parentSpanID: self.trace.parentSpanID,
                parentIsRemote: self.parentIsRemote,
                name: finished.name,
                kind: Self.convert(self.kind),
                startUnixNano: self.start,
                endUnixNano: end,
                attributes: Self.convert(finished.attributes),
                events: finished.events,
                links: finished.links,
                status: finished.status.map { $0.code == .error ? .error : .ok } ?? .unset,
                statusMessage: finished.status?.message
            )
        )
    }

    static func convert(_ kind: SpanKind) -> SpanData.Kind {
        switch kind {
        case .server: .server
        case .client: .client
        case .producer: .producer
        case .consumer: .consumer
        default: .internal
        }
    }

    static func convert(_ attributes: SpanAttributes) -> [String: AttributeValue] {
        var result: [String: AttributeValue] = [:]
        attributes.forEach { name, value in
            switch value {
            case .int32(let number): result[name] = .int(Int64(number))
            case .int64(let number): result[name] = .int(number)
            case .double(let number): result[name] = .double(number)
            case .bool(let flag): result[name] = .bool(flag)
            case .string(let text): result[name] = .string(text)
            case .stringArray(let texts): result[name] = .stringArray(texts)
            default: result[name] = .string("\(value)")
            }
        }
        return result
    }
}

private enum TraceContextKey: InstrumentationContextKey {
    typealias Value = TraceContext
}

private enum RemoteParentKey: InstrumentationContextKey {
    typealias Value = Bool
}

extension InstrumentationContext {
    /// The W3C position carried by this context.
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }

    var parentIsRemote: Bool {
        get { self[RemoteParentKey.self] ?? false }
        set { self[RemoteParentKey.self] = newValue }
    }
}
