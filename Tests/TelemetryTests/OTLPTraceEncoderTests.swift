import COTLP
import Testing

@testable import Telemetry

@Suite("OTLP encoding with protobuf-c")
struct OTLPTraceEncoderTests {
    static let span = SpanData(
        traceID: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanID: "00f067aa0ba902b7",
        parentSpanID: "a3ce929d0e0e4736",
        parentIsRemote: true,
        traceState: "vendor=1",
        name: "chat gemini-2.5-flash",
        kind: .client,
        startUnixNano: 1_700_000_000_000_000_000,
        endUnixNano: 1_700_000_001_500_000_000,
        attributes: [
            "gen_ai.provider.name": "gcp.gemini",
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.request.temperature": .double(0.5),
            "gen_ai.request.stream": .bool(true),
            "gen_ai.response.finish_reasons": .stringArray(["tool_use"]),
        ],
        events: [SpanData.Event(name: "gen_ai.tool.call", timeUnixNano: 1_700_000_001_000_000_000, attributes: ["gen_ai.tool.name": "Read"])],
        links: [SpanData.Link(traceID: "11111111111111111111111111111111", spanID: "2222222222222222")],
        status: .error,
        statusMessage: "upstream overloaded"
    )

    @Test("pack → unpack round trip of every field we set")
    func roundTrip() throws {
        let bytes = OTLPTraceEncoder.encode(
            [Self.span],
            resource: ["service.name": "switchboard", "service.version": "0.1.0"],
            scope: .init(name: "switchboard", version: "0.1.0")
        )
        let request = try #require(bytes.withUnsafeBufferPointer {
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(nil, $0.count, $0.baseAddress)
        })
        defer { opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(request, nil) }

        #expect(request.pointee.n_resource_spans == 1)
        let resourceSpans = try #require(request.pointee.resource_spans[0])
        let resource = try #require(resourceSpans.pointee.resource)
        #expect(Self.attributes(resource.pointee.attributes, resource.pointee.n_attributes) == ["service.name": "switchboard", "service.version": "0.1.0"])
        let scopeSpans = try #require(resourceSpans.pointee.scope_spans[0])
        #expect(String(cString: scopeSpans.pointee.scope.pointee.name) == "switchboard")
        #expect(scopeSpans.pointee.n_spans == 1)
        let span = try #require(scopeSpans.pointee.spans[0]).pointee

        #expect(Self.hex(span.trace_id) == Self.span.traceID)
        #expect(Self.hex(span.span_id) == Self.span.spanID)
        #expect(Self.hex(span.parent_span_id) == Self.span.parentSpanID)
        #expect(String(cString: span.trace_state) == "vendor=1")
        #expect(span.flags == 0x301)
        #expect(String(cString: span.name) == "chat gemini-2.5-flash")
        #expect(span.kind == OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT)
        #expect(span.start_time_unix_nano == Self.span.startUnixNano)
        #expect(span.end_time_unix_nano == Self.span.endUnixNano)
        #expect(Self.attributes(span.attributes, span.n_attributes) == Self.span.attributes)
        #expect(span.n_events == 1)
        let event = try #require(span.events[0]).pointee
        #expect(String(cString: event.name) == "gen_ai.tool.call")
        #expect(event.time_unix_nano == 1_700_000_001_000_000_000)
        #expect(Self.attributes(event.attributes, event.n_attributes) == ["gen_ai.tool.name": "Read"])
        #expect(span.n_links == 1)
        #expect(Self.hex(try #require(span.links[0]).pointee.trace_id) == "11111111111111111111111111111111")
        let status = try #require(span.status).pointee
        #expect(status.code == OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR)
        #expect(String(cString: status.message) == "upstream overloaded")
    }

    @Test("partial success is read from the response; an empty body is full success")
    func partialSuccess() {
        #expect(OTLPTraceEncoder.partialSuccess(in: []) == nil)
        // partial_success { rejected_spans: 3, error_message: "bad" }
        let body: [UInt8] = [0x0A, 0x07, 0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]
        let partial = OTLPTraceEncoder.partialSuccess(in: body)
        #expect(partial?.rejectedSpans == 3)
        #expect(partial?.message == "bad")
    }

    static func hex(_ data: ProtobufCBinaryData) -> String {
        (0..<data.len).map { String(format: "%02x", data.data[$0]) }.joined()
    }

    static func attributes(
        _ list: UnsafeMutablePointer<UnsafeMutablePointer<Opentelemetry__Proto__Common__V1__KeyValue>?>?,
        _ count: Int
    ) -> [String: AttributeValue] {
        var result: [String: AttributeValue] = [:]
        for index in 0..<count {
            guard let keyValue = list?[index]?.pointee, let value = keyValue.value?.pointee else { continue }
            let key = String(cString: keyValue.key)
            switch value.value_case {
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE: result[key] = .string(String(cString: value.string_value))
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE: result[key] = .bool(value.bool_value != 0)
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE: result[key] = .int(value.int_value)
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE: result[key] = .double(value.double_value)
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
                let array = value.array_value.pointee
                result[key] = .stringArray((0..<array.n_values).map { String(cString: array.values[$0]!.pointee.string_value) })
            default: break
            }
        }
        return result
    }
}
