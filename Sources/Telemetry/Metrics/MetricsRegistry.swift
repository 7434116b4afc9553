import Synchronization

/// The metrics of one process: counters, gauges and histograms, with exemplars, exposed in Prometheus
/// text 0.0.4 or OpenMetrics 1.0 by ``MetricsExposition``.
///
/// A family is registered once by name; its series are created on first use per label set. Keep the
/// label values bounded: no ids, keys or raw paths.
public final class MetricsRegistry: Sendable {
    private let families = Mutex<[MetricFamily]>([])
    private let collectors = Mutex<[@Sendable () -> Void]>([])

    public init() {}

    public func counter(_ name: String, help: String, labels: [String] = []) -> MetricFamily {
        self.register(MetricFamily(name: name, help: help, kind: .counter, labelNames: labels, buckets: []))
    }

    public func gauge(_ name: String, help: String, labels: [String] = []) -> MetricFamily {
        self.register(MetricFamily(name: name, help: help, kind: .gauge, labelNames: labels, buckets: []))
    }

    /// A histogram; `unit` is the name's unit suffix (`seconds`), announced in OpenMetrics.
    public func histogram(_ name: String, help: String, unit: String? = nil, labels: [String] = [], buckets: [Double])
        -> MetricFamily
    {
        let family = MetricFamily(name: name, help: help, kind: .histogram, labelNames: labels, buckets: buckets.sorted())
        family.unit = unit
        return self.register(family)
    }

    /// Runs `collect` before every exposition, to set gauges computed from live state.
    public func onCollect(_ collect: @escaping @Sendable () -> Void) {
        self.collectors.withLock { $0.append(collect) }
    }

    /// The family named `name`, if registered.
    public func family(named name: String) -> MetricFamily? {
        self.families.withLock { families in families.first { $0.name == name } }
    }

    var allFamilies: [MetricFamily] {
        for collect in self.collectors.withLock({ $0 }) { collect() }
        return self.families.withLock { $0 }
    }

    private func register(_ family: MetricFamily) -> MetricFamily {
        self.families.withLock { families in
            if let existing = families.first(where: { $0.name == family.name }) {
                precondition(existing.kind == family.kind, "metric \(family.name) registered twice with different types")
                return existing
            }
            families.append(family)
            return family
        }
    }
}

/// A trace a sample came from, attached to it as an OpenMetrics exemplar.
public struct Exemplar: Sendable, Hashable {
    public var traceID: String
    public var spanID: String?
    public var value: Double
    /// Seconds since the Unix epoch.
    public var timestamp: Double

    public init(traceID: String, spanID: String? = nil, value: Double, timestamp: Double) {
        self.traceID = traceID
        self.spanID = spanID
        self.value = value
        self.timestamp = timestamp
    }
}
