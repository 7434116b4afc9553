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
    ///
    /// W3C Trace Context: every field is ASCII lower-case hex (`Character.isHexDigit` would also take
    /// upper case and fullwidth digits such as `０`, which then encode to ids of the wrong length and
    /// get whole span batches rejected); all-zero ids and version `ff` are invalid; version `00` is
    /// exactly 55 characters, and a later version may only add fields after another `-`.
    public init?(traceparent: String) {
        let bytes = Array(traceparent.utf8)
        guard bytes.count >= 55, bytes[2] == Self.dash, bytes[35] == Self.dash, bytes[52] == Self.dash,
            let version = Self.hexByte(bytes[0], bytes[1]), version != 0xff,
            bytes.count == 55 || (version != 0 && bytes[55] == Self.dash),
            let flags = Self.hexByte(bytes[53], bytes[54]),
            let traceID = Self.id(bytes[3..<35]), let parentSpanID = Self.id(bytes[36..<52])
        else { return nil }
        self.traceID = traceID
        self.parentSpanID = parentSpanID
        self.spanID = Self.randomHex(bytes: 8)
        self.isSampled = flags & 1 == 1
    }

    /// The same position with the sampling decision `isSampled` (a sampler's, or a policy's).
    public func sampled(_ isSampled: Bool) -> TraceContext {
        TraceContext(traceID: self.traceID, spanID: self.spanID, parentSpanID: self.parentSpanID, isSampled: isSampled)
    }

    private static let dash = UInt8(ascii: "-")

    /// The value of an ASCII lower-case hex digit (the only kind W3C trace ids have); nil for anything else.
    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    private static func hexByte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard let high = Self.nibble(high), let low = Self.nibble(low) else { return nil }
        return high << 4 | low
    }

    /// A trace or span id: lower-case hex, not all zero.
    private static func id(_ digits: ArraySlice<UInt8>) -> String? {
        guard digits.allSatisfy({ Self.nibble($0) != nil }), digits.contains(where: { $0 != UInt8(ascii: "0") })
        else { return nil }
        return String(decoding: digits, as: UTF8.self)
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
