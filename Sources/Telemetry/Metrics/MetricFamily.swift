import Synchronization

/// One metric name and its series, one per label set.
public final class MetricFamily: Sendable {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public let name: String
    public let help: String
    public let kind: Kind
    public let labelNames: [String]
    public let buckets: [Double]
    private let unitBox = Mutex<String?>(nil)
    private let series = Mutex<[[String]: SeriesState]>([:])

    var unit: String? {
        get { self.unitBox.withLock { $0 } }
        set { self.unitBox.withLock { $0 = newValue } }
    }

    init(name: String, help: String, kind: Kind, labelNames: [String], buckets: [Double]) {
        self.name = name
        self.help = help
        self.kind = kind
        self.labelNames = labelNames
        self.buckets = buckets
    }

    /// Adds `amount` (≥ 0) to a counter, or to a gauge.
    public func increment(_ labels: [String] = [], by amount: Double = 1, exemplar: Exemplar? = nil) {
        precondition(self.kind != .histogram, "\(self.name) is a histogram")
        self.update(labels) { state in
            state.value += amount
            if let exemplar { state.exemplar = exemplar }
        }
    }

    /// Sets a gauge.
    public func set(_ labels: [String] = [], to value: Double) {
        precondition(self.kind == .gauge, "\(self.name) is not a gauge")
        self.update(labels) { $0.value = value }
    }

    /// Replaces every series of a gauge with `values`: a series not among them is gone from the next
    /// scrape (a deployment a configuration reload removed), rather than kept at its last value.
    public func replaceAll(with values: [(labels: [String], value: Double)]) {
        precondition(self.kind == .gauge, "\(self.name) is not a gauge")
        var replacement: [[String]: SeriesState] = [:]
        for (labels, value) in values {
            precondition(labels.count == self.labelNames.count, "\(self.name) takes labels \(self.labelNames)")
            replacement[labels] = SeriesState(value: value)
        }
        self.series.withLock { $0 = replacement }
    }

    /// Records one observation in a histogram; the exemplar goes on the bucket the value falls in.
    public func observe(_ labels: [String] = [], _ value: Double, exemplar: Exemplar? = nil) {
        precondition(self.kind == .histogram, "\(self.name) is not a histogram")
        let bucket = self.buckets.firstIndex { value <= $0 } ?? self.buckets.count
        self.update(labels) { state in
            if state.bucketCounts.isEmpty { state.bucketCounts = Array(repeating: 0, count: self.buckets.count + 1) }
            state.bucketCounts[bucket] += 1
            state.sum += value
            state.count += 1
            if let exemplar { state.bucketExemplars[bucket] = exemplar }
        }
    }

    /// The value of a counter or gauge series, or a histogram's count; nil when the series never was.
    public func value(_ labels: [String] = []) -> Double? {
        self.series.withLock { series in
            guard let state = series[labels] else { return nil }
            return self.kind == .histogram ? Double(state.count) : state.value
        }
    }

    /// The series now, sorted by label values, for exposition.
    func snapshot() -> [(labels: [String], state: SeriesState)] {
        self.series.withLock { series in series.map { ($0.key, $0.value) } }
            .sorted { $0.labels.lexicographicallyPrecedes($1.labels) }
    }

    private func update(_ labels: [String], _ change: (inout SeriesState) -> Void) {
        precondition(labels.count == self.labelNames.count, "\(self.name) takes labels \(self.labelNames)")
        self.series.withLock { series in
            change(&series[labels, default: SeriesState()])
        }
    }
}

struct SeriesState: Sendable {
    var value: Double = 0
    var exemplar: Exemplar?
    /// Per bucket (not cumulative), the last one for +Inf.
    var bucketCounts: [UInt64] = []
    var bucketExemplars: [Int: Exemplar] = [:]
    var sum: Double = 0
    var count: UInt64 = 0
}
