/// Writes a ``MetricsRegistry`` as Prometheus text 0.0.4 or OpenMetrics 1.0.
///
/// The two differ where it matters: OpenMetrics declares counters without `_total` (samples keep it),
/// carries `# UNIT`, exemplars (`# {trace_id="…"} value timestamp`) on counters and histogram buckets,
/// and ends with `# EOF`. Numbers are shortest round-trip, so bucket bounds such as 1048576 never
/// lose digits to a `%g`.
public enum MetricsExposition {
    public enum Format: Sendable {
        case prometheusText
        case openMetrics

        public var contentType: String {
            switch self {
            case .prometheusText: "text/plain; version=0.0.4; charset=utf-8"
            case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
            }
        }

        /// OpenMetrics when the `Accept` header asks for it (Prometheus does), else text 0.0.4.
        public init(accept: String?) {
            self = (accept ?? "").contains("application/openmetrics-text") ? .openMetrics : .prometheusText
        }
    }

    public static func render(_ registry: MetricsRegistry, format: Format) -> String {
        var out = ""
        out.reserveCapacity(16_384)
        for family in registry.allFamilies {
            let series = family.snapshot()
            guard !series.isEmpty else { continue }
            Self.writeFamily(family, series: series, format: format, into: &out)
        }
        if format == .openMetrics { out += "# EOF\n" }
        return out
    }

    private static func writeFamily(
        _ family: MetricFamily,
        series: [(labels: [String], state: SeriesState)],
        format: Format,
        into out: inout String
    ) {
        let isOpenMetrics = format == .openMetrics
        let sampleName = family.kind == .counter ? family.name + "_total" : family.name
        let declaredName = isOpenMetrics ? family.name : sampleName
        out += "# TYPE \(declaredName) \(family.kind.rawValue)\n"
        if isOpenMetrics, let unit = family.unit, family.name.hasSuffix("_" + unit) {
            out += "# UNIT \(declaredName) \(unit)\n"
        }
        out += "# HELP \(declaredName) \(Self.escape(family.help, quotes: isOpenMetrics))\n"

        for (labels, state) in series {
            let pairs = Array(zip(family.labelNames, labels)).filter { !$0.1.isEmpty }
            switch family.kind {
            case .counter, .gauge:
                out += sampleName + Self.labelSet(pairs) + " " + Self.number(state.value, openMetrics: isOpenMetrics)
                if isOpenMetrics, let exemplar = state.exemplar { out += Self.exemplar(exemplar) }
                out += "\n"
            case .histogram:
                var cumulative: UInt64 = 0
                for (index, bound) in (family.buckets + [.infinity]).enumerated() {
                    cumulative += index < state.bucketCounts.count ? state.bucketCounts[index] : 0
                    let le = bound.isInfinite ? "+Inf" : Self.number(bound, openMetrics: isOpenMetrics)
                    out += family.name + "_bucket" + Self.labelSet(pairs + [("le", le)]) + " \(cumulative)"
                    if isOpenMetrics, let exemplar = state.bucketExemplars[index] { out += Self.exemplar(exemplar) }
                    out += "\n"
                }
                out += family.name + "_sum" + Self.labelSet(pairs) + " " + Self.number(state.sum, openMetrics: isOpenMetrics) + "\n"
                out += family.name + "_count" + Self.labelSet(pairs) + " \(state.count)\n"
            }
        }
    }

    private static func labelSet(_ pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return "" }
        return "{" + pairs.map { "\($0.0)=\"\(Self.escape($0.1, quotes: true))\"" }.joined(separator: ",") + "}"
    }

    private static func exemplar(_ exemplar: Exemplar) -> String {
        var labels = [("trace_id", exemplar.traceID)]
        if let span = exemplar.spanID { labels.append(("span_id", span)) }
        return " # " + Self.labelSet(labels) + " " + Self.number(exemplar.value, openMetrics: true)
            + " " + Self.number(exemplar.timestamp, openMetrics: true)
    }

    /// Shortest round-trip decimal; OpenMetrics writes whole numbers with `.0` (`1.0`, `1048576.0`).
    static func number(_ value: Double, openMetrics: Bool = false) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if !openMetrics, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }

    /// Backslashes and line feeds always; double quotes in label values, and in OpenMetrics HELP text.
    private static func escape(_ value: String, quotes: Bool) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\"" where quotes: escaped += "\\\""
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
