/// A W3C Trace Context position: the trace a request belongs to and its span in it.
///
/// Parsed from an incoming `traceparent` (so the caller's trace continues), or started fresh. Metrics
/// exemplars carry the trace id, which is how Grafana links a slow bucket to the trace in Jaeger.
public struct TraceContext: Sendable, Hashable {
    /// 32 lower-case hex digits, not all zero.
    public let traceID: String
    /// 16 lower-case hex digits: this request's own span.
    public let spanID: String
    /// The caller's span, when the request arrived with a `traceparent`.
    public let parentSpanID: String?
    public let isSampled: Bool

    public init(traceID: String, spanID: String, parentSpanID: String?, isSampled: Bool = true) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.isSampled = isSampled
    }

    /// A span inside this one: same trace, a new span id, this span as its parent.
    public func child() -> TraceContext {
        TraceContext(traceID: self.traceID, spanID: Self.randomHex(bytes: 8), parentSpanID: self.spanID, isSampled: self.isSampled)
    }

    /// A new trace.
    public init() {
        self.traceID = Self.randomHex(bytes: 16)
        self.spanID = Self.randomHex(bytes: 8)
        self.parentSpanID = nil
        self.isSampled = true
    }

    /// Continues the trace in `traceparent` (`00-<trace>-<parent span>-<flags>`); nil when it is not valid.
    public init?(traceparent: String) {
        let fields = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4, fields[0].count == 2, fields[0] != "ff",
            fields[1].count == 32, fields[2].count == 16, fields[3].count == 2,
            fields.allSatisfy({ $0.allSatisfy(\.isHexDigit) }),
            fields[1].contains(where: { $0 != "0" }), fields[2].contains(where: { $0 != "0" }),
            let flags = UInt8(fields[3], radix: 16)
        else { return nil }
        self.traceID = fields[1].lowercased()
        self.parentSpanID = fields[2].lowercased()
        self.spanID = Self.randomHex(bytes: 8)
        self.isSampled = flags & 1 == 1
    }

    /// `traceparent` for a request this span makes.
    public var traceparent: String {
        "00-\(self.traceID)-\(self.spanID)-\(self.isSampled ? "01" : "00")"
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `bytes` (a multiple of 8) random bytes as lowercase hex, never all zero (an invalid id).
    static func randomHex(bytes: Int) -> String {
        var generator = PooledRandomGenerator()
        while true {
            let words = (0..<bytes / 8).map { _ in generator.next() }
            guard words.contains(where: { $0 != 0 }) else { continue }
            return String(unsafeUninitializedCapacity: bytes * 2) { hex in
                var index = 0
                for word in words {
                    for shift in stride(from: 60, through: 0, by: -4) {
                        hex[index] = Self.hexDigits[Int((word >> UInt64(shift)) & 0xF)]
                        index += 1
                    }
                }
                return index
            }
        }
    }
}
