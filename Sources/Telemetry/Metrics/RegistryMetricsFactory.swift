import CoreMetrics

/// swift-metrics' `MetricsFactory` over a ``MetricsRegistry``, so libraries' metrics (Hummingbird's
/// `hb_requests`, `hb_request_duration`, …) appear on the same `/metrics` page as ours.
///
/// Counters → counters; timers and aggregating recorders → histograms; meters and non-aggregating
/// recorders → gauges. Names and label names are made Prometheus-safe (`.` and `-` become `_`).
public struct RegistryMetricsFactory: MetricsFactory {
    public let registry: MetricsRegistry

    /// Buckets for timers, in seconds.
    static let timerBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Buckets for aggregating recorders.
    static let valueBuckets = [1.0, 5, 10, 50, 100, 500, 1000, 5000, 10000]

    public init(registry: MetricsRegistry) {
        self.registry = registry
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(family: self.registry.counter(Self.sanitize(label), help: label, labels: dimensions.map { Self.sanitize($0.0) }), dimensions: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        Handler(family: self.registry.counter(Self.sanitize(label), help: label, labels: dimensions.map { Self.sanitize($0.0) }), dimensions: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let labels = dimensions.map { Self.sanitize($0.0) }
        let family = aggregate
            ? self.registry.histogram(Self.sanitize(label), help: label, labels: labels, buckets: Self.valueBuckets)
            : self.registry.gauge(Self.sanitize(label), help: label, labels: labels)
        return Handler(family: family, dimensions: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        Handler(family: self.registry.gauge(Self.sanitize(label), help: label, labels: dimensions.map { Self.sanitize($0.0) }), dimensions: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let name = Self.sanitize(label) + "_seconds"
        let family = self.registry.histogram(name, help: label, unit: "seconds", labels: dimensions.map { Self.sanitize($0.0) }, buckets: Self.timerBuckets)
        return Handler(family: family, dimensions: dimensions)
    }

    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyMeter(_ handler: any MeterHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}

    static func sanitize(_ name: String) -> String {
        var result = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" ? $0 : "_" })
        if let first = result.first, first.isNumber { result = "_" + result }
        return result
    }

    /// One swift-metrics handle: a family and the label values in the family's label order.
    private final class Handler: CounterHandler, FloatingPointCounterHandler, RecorderHandler, MeterHandler, TimerHandler,
        Sendable
    {
        let family: MetricFamily
        let labels: [String]

        init(family: MetricFamily, dimensions: [(String, String)]) {
            self.family = family
            let values = Dictionary(dimensions.map { (RegistryMetricsFactory.sanitize($0.0), $0.1) }, uniquingKeysWith: { $1 })
            // A later handle may name other dimensions than the family's first: keep the family's labels.
            self.labels = family.labelNames.map { values[$0] ?? "" }
        }

        func increment(by amount: Int64) { self.family.increment(self.labels, by: Double(amount)) }
        func increment(by amount: Double) {
            if self.family.kind == .gauge || amount >= 0 { self.family.increment(self.labels, by: amount) }
        }
        func decrement(by amount: Double) { self.family.increment(self.labels, by: -amount) }
        func reset() {}
        func record(_ value: Int64) { self.record(Double(value)) }
        func record(_ value: Double) {
            if self.family.kind == .histogram { self.family.observe(self.labels, value) } else { self.family.set(self.labels, to: value) }
        }
        func set(_ value: Int64) { self.family.set(self.labels, to: Double(value)) }
        func set(_ value: Double) { self.family.set(self.labels, to: value) }
        func recordNanoseconds(_ duration: Int64) { self.family.observe(self.labels, Double(duration) / 1e9) }
    }
}
