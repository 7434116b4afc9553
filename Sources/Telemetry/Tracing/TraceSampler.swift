import Foundation

/// Decides whether a trace is recorded, as the OpenTelemetry SDK's samplers do.
///
/// The decision is made once per request, when its trace starts or continues, and travels in the
/// `traceparent` flags: an unsampled trace still reaches upstreams, with flags `00`, so they drop it too.
/// `traceidratio` reads the trace id itself (TraceIdRatioBased: the id's last 8 bytes against
/// `ratio × 2⁶³`), so every service with the same ratio keeps the same traces.
public struct TraceSampler: Sendable, Equatable {
    /// What decides a trace that starts here (and, without `isParentBased`, every trace).
    public enum Root: Sendable, Equatable {
        case alwaysOn
        case alwaysOff
        /// Keeps this fraction (0…1) of traces, chosen by trace id.
        case traceIDRatio(Double)
    }

    public var root: Root
    /// Whether a caller's decision (its `traceparent` sampled flag) wins over `root`.
    public var isParentBased: Bool

    public init(root: Root, isParentBased: Bool) {
        self.root = root
        self.isParentBased = isParentBased
    }

    /// The OpenTelemetry SDK's default: follow the caller; sample every trace that starts here.
    public static let parentBasedAlwaysOn = TraceSampler(root: .alwaysOn, isParentBased: true)

    /// The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` name, with a warning for each
    /// value that could not be used (the specification's rule: warn, then use the default).
    public static func fromEnvironment(_ environment: [String: String]) -> (TraceSampler, warnings: [String]) {
        let name = environment["OTEL_TRACES_SAMPLER"]?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let argument = environment["OTEL_TRACES_SAMPLER_ARG"]?.trimmingCharacters(in: .whitespaces) ?? ""
        var warnings: [String] = []
        func ratio() -> Double {
            guard !argument.isEmpty else { return 1 }
            // A probability: Double's own parser would also take "nan", "inf" and hex floats.
            let decimal = argument.utf8.allSatisfy { $0 == UInt8(ascii: ".") || (48...57).contains($0) }
            guard decimal, let value = Double(argument), (0...1).contains(value)
            else {
                warnings.append("OTEL_TRACES_SAMPLER_ARG=\(argument): expected a ratio from 0 to 1; using 1")
                return 1
            }
            return value
        }
        let sampler: TraceSampler
        switch name {
        case "", "parentbased_always_on": sampler = .parentBasedAlwaysOn
        case "always_on": sampler = TraceSampler(root: .alwaysOn, isParentBased: false)
        case "always_off": sampler = TraceSampler(root: .alwaysOff, isParentBased: false)
        case "parentbased_always_off": sampler = TraceSampler(root: .alwaysOff, isParentBased: true)
        case "traceidratio": sampler = TraceSampler(root: .traceIDRatio(ratio()), isParentBased: false)
        case "parentbased_traceidratio": sampler = TraceSampler(root: .traceIDRatio(ratio()), isParentBased: true)
        default:
            warnings.append(
                "OTEL_TRACES_SAMPLER=\(name): not supported (expected always_on, always_off, traceidratio, "
                    + "parentbased_always_on, parentbased_always_off or parentbased_traceidratio); "
                    + "using parentbased_always_on"
            )
            sampler = .parentBasedAlwaysOn
        }
        return (sampler, warnings)
    }

    /// `trace` with this sampler's decision in its flag. A trace with a parent span came from a caller.
    public func sample(_ trace: TraceContext) -> TraceContext {
        trace.sampled(self.shouldSample(trace))
    }

    /// Whether `trace` is recorded.
    public func shouldSample(_ trace: TraceContext) -> Bool {
        if self.isParentBased, trace.parentSpanID != nil { return trace.isSampled }
        switch self.root {
        case .alwaysOn: return true
        case .alwaysOff: return false
        case .traceIDRatio(let ratio): return Self.randomPart(of: trace.traceID) < Self.upperBound(ratio)
        }
    }

    /// The trace id's last 8 bytes, big-endian, shifted right by one: what TraceIdRatioBased compares.
    static func randomPart(of traceID: String) -> UInt64 {
        guard traceID.utf8.count == 32, let low = UInt64(traceID.suffix(16), radix: 16) else { return .max }
        return low >> 1
    }

    /// `ratio × 2⁶³`: every 63-bit value below it is sampled (all of them at 1, none at 0).
    static func upperBound(_ ratio: Double) -> UInt64 {
        UInt64(min(max(ratio, 0), 1) * 0x1p63)
    }
}
