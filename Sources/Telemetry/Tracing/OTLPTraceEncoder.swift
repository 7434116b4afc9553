import COTLP
import CProtobufC
import Foundation

/// Packs spans into an OTLP `ExportTraceServiceRequest` with protobuf-c.
///
/// protobuf-c messages are C structs pointing at C strings and pointer arrays; an ``Arena`` owns every
/// allocation for one request and frees them together once the bytes are packed.
public enum OTLPTraceEncoder {
    /// The instrumentation scope spans are reported under.
    public struct Scope: Sendable {
        public var name: String
        public var version: String

        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }

    /// One request holding `spans` under one resource and scope.
    public static func encode(_ spans: [SpanData], resource: [String: AttributeValue], scope: Scope) -> [UInt8] {
        let arena = Arena()

        var otelResource = Opentelemetry__Proto__Resource__V1__Resource()
        opentelemetry__proto__resource__v1__resource__init(&otelResource)
        (otelResource.n_attributes, otelResource.attributes) = arena.keyValues(resource)

        var otelScope = Opentelemetry__Proto__Common__V1__InstrumentationScope()
        opentelemetry__proto__common__v1__instrumentation_scope__init(&otelScope)
        otelScope.name = arena.string(scope.name)
        otelScope.version = arena.string(scope.version)

        let packedSpans = spans.map { arena.span($0) }
        var scopeSpans = Opentelemetry__Proto__Trace__V1__ScopeSpans()
        opentelemetry__proto__trace__v1__scope_spans__init(&scopeSpans)
        scopeSpans.scope = arena.copy(otelScope)
        (scopeSpans.n_spans, scopeSpans.spans) = arena.pointers(packedSpans)

        var resourceSpans = Opentelemetry__Proto__Trace__V1__ResourceSpans()
        opentelemetry__proto__trace__v1__resource_spans__init(&resourceSpans)
        resourceSpans.resource = arena.copy(otelResource)
        (resourceSpans.n_scope_spans, resourceSpans.scope_spans) = arena.pointers([arena.copy(scopeSpans)])

        var request = Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest()
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&request)
        (request.n_resource_spans, request.resource_spans) = arena.pointers([arena.copy(resourceSpans)])

        let size = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&request)
        var bytes = [UInt8](repeating: 0, count: size)
        _ = bytes.withUnsafeMutableBufferPointer {
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&request, $0.baseAddress)
        }
        return bytes
    }

    /// The `partial_success` of an `ExportTraceServiceResponse`: nil for full success (or an
    /// unreadable body, which the protocol says to treat as success once the status was 200).
    public static func partialSuccess(in body: [UInt8]) -> (rejectedSpans: Int64, message: String)? {
        let response = body.withUnsafeBufferPointer {
            opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(nil, $0.count, $0.baseAddress)
        }
        guard let response else { return nil }
        defer { opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(response, nil) }
        guard let partial = response.pointee.partial_success else { return nil }
        let message = partial.pointee.error_message.map { String(cString: $0) } ?? ""
        return (partial.pointee.rejected_spans, message)
    }

    /// Bytes from hex digits (trace and span ids).
    static func bytes(fromHex hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            // Ids were validated (or made) as lower-case hex.
            bytes.append((TraceContext.nibble(high) ?? 0) << 4 | (TraceContext.nibble(low) ?? 0))
        }
        return bytes
    }
}

/// Owns the C memory of one protobuf-c message tree.
private final class Arena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for allocation in self.allocations { free(allocation) }
    }

    func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(text)!
        self.allocations.append(UnsafeMutableRawPointer(copy))
        return copy
    }

    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let memory = malloc(bytes.count)!
        self.allocations.append(memory)
        memory.copyMemory(from: bytes, byteCount: bytes.count)
        return ProtobufCBinaryData(len: bytes.count, data: memory.assumingMemoryBound(to: UInt8.self))
    }

    func copy<T>(_ value: T) -> UnsafeMutablePointer<T> {
        let memory = malloc(MemoryLayout<T>.stride)!
        self.allocations.append(memory)
        let pointer = memory.bindMemory(to: T.self, capacity: 1)
        pointer.initialize(to: value)
        return pointer
    }

    /// A C array of pointers, as protobuf-c's repeated message fields are.
    func pointers<T>(_ items: [UnsafeMutablePointer<T>]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) {
        guard !items.isEmpty else { return (0, nil) }
        let memory = malloc(MemoryLayout<UnsafeMutablePointer<T>?>.stride * items.count)!
        self.allocations.append(memory)
        let array = memory.bindMemory(to: UnsafeMutablePointer<T>?.self, capacity: items.count)
        for (index, item) in items.enumerated() { array[index] = item }
        return (items.count, array)
    }

    func keyValues(_ attributes: [String: AttributeValue]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Opentelemetry__Proto__Common__V1__KeyValue>?>?) {
        self.pointers(attributes.sorted { $0.key < $1.key }.map { self.keyValue($0.key, $0.value) })
    }

    private func keyValue(_ key: String, _ value: AttributeValue) -> UnsafeMutablePointer<Opentelemetry__Proto__Common__V1__KeyValue> {
        var keyValue = Opentelemetry__Proto__Common__V1__KeyValue()
        opentelemetry__proto__common__v1__key_value__init(&keyValue)
        keyValue.key = self.string(key)
        keyValue.value = self.anyValue(value)
        return self.copy(keyValue)
    }

    private func anyValue(_ value: AttributeValue) -> UnsafeMutablePointer<Opentelemetry__Proto__Common__V1__AnyValue> {
        var any = Opentelemetry__Proto__Common__V1__AnyValue()
        opentelemetry__proto__common__v1__any_value__init(&any)
        switch value {
        case .string(let text):
            any.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
            any.string_value = self.string(text)
        case .bool(let flag):
            any.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
            any.bool_value = flag ? 1 : 0
        case .int(let number):
            any.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
            any.int_value = number
        case .double(let number):
            any.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
            any.double_value = number
        case .stringArray(let texts):
            var array = Opentelemetry__Proto__Common__V1__ArrayValue()
            opentelemetry__proto__common__v1__array_value__init(&array)
            (array.n_values, array.values) = self.pointers(texts.map { self.anyValue(.string($0)) })
            any.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
            any.array_value = self.copy(array)
        }
        return self.copy(any)
    }

    func span(_ data: SpanData) -> UnsafeMutablePointer<Opentelemetry__Proto__Trace__V1__Span> {
        var span = Opentelemetry__Proto__Trace__V1__Span()
        opentelemetry__proto__trace__v1__span__init(&span)
        span.trace_id = self.binary(OTLPTraceEncoder.bytes(fromHex: data.traceID))
        span.span_id = self.binary(OTLPTraceEncoder.bytes(fromHex: data.spanID))
        if let parent = data.parentSpanID { span.parent_span_id = self.binary(OTLPTraceEncoder.bytes(fromHex: parent)) }
        if let state = data.traceState { span.trace_state = self.string(state) }
        // Sampled, and whether the parent is known to be remote (bits 8 and 9).
        span.flags = 0x01 | 0x100 | (data.parentIsRemote ? 0x200 : 0)
        span.name = self.string(data.name)
        span.kind = Opentelemetry__Proto__Trace__V1__Span__SpanKind(rawValue: UInt32(data.kind.rawValue))
        span.start_time_unix_nano = data.startUnixNano
        span.end_time_unix_nano = data.endUnixNano
        (span.n_attributes, span.attributes) = self.keyValues(data.attributes)
        let events = data.events.map { event -> UnsafeMutablePointer<Opentelemetry__Proto__Trace__V1__Span__Event> in
            var otelEvent = Opentelemetry__Proto__Trace__V1__Span__Event()
            opentelemetry__proto__trace__v1__span__event__init(&otelEvent)
            otelEvent.time_unix_nano = event.timeUnixNano
            otelEvent.name = self.string(event.name)
            (otelEvent.n_attributes, otelEvent.attributes) = self.keyValues(event.attributes)
            return self.copy(otelEvent)
        }
        (span.n_events, span.events) = self.pointers(events)
        let links = data.links.map { link -> UnsafeMutablePointer<Opentelemetry__Proto__Trace__V1__Span__Link> in
            var otelLink = Opentelemetry__Proto__Trace__V1__Span__Link()
            opentelemetry__proto__trace__v1__span__link__init(&otelLink)
            otelLink.trace_id = self.binary(OTLPTraceEncoder.bytes(fromHex: link.traceID))
            otelLink.span_id = self.binary(OTLPTraceEncoder.bytes(fromHex: link.spanID))
            (otelLink.n_attributes, otelLink.attributes) = self.keyValues(link.attributes)
            return self.copy(otelLink)
        }
        (span.n_links, span.links) = self.pointers(links)
        if data.status != .unset {
            var status = Opentelemetry__Proto__Trace__V1__Status()
            opentelemetry__proto__trace__v1__status__init(&status)
            status.code = Opentelemetry__Proto__Trace__V1__Status__StatusCode(rawValue: UInt32(data.status.rawValue))
            if let message = data.statusMessage { status.message = self.string(message) }
            span.status = self.copy(status)
        }
        return self.copy(span)
    }
}
