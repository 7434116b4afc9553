import Synchronization

/// Queues finished spans and exports them in batches, off the request path.
///
/// A batch goes out when `maxExportBatchSize` spans are waiting or `scheduleDelay` has passed since
/// the loop last woke; exports never overlap. A full queue drops the span and counts it. `shutdown`
/// exports what is left.
public final class BatchSpanProcessor: Sendable {
    public typealias Export = @Sendable ([SpanData]) async -> OTLPHTTPExporter.Outcome

    private struct State {
        var queue: [SpanData] = []
        var waiter: CheckedContinuation<Void, Never>?
        var timer: Task<Void, Never>?
        var isShuttingDown = false
        var stopped: CheckedContinuation<Void, Never>?
        var hasStopped = false
    }

    private let configuration: OTLPExporterConfiguration
    private let export: Export
    private let state = Mutex(State())
    private let exported: MetricFamily?
    private let dropped: MetricFamily?
    private let failures: MetricFamily?

    public init(configuration: OTLPExporterConfiguration, registry: MetricsRegistry?, export: @escaping Export) {
        self.configuration = configuration
        self.export = export
        self.exported = registry?.counter("switchboard_spans_exported", help: "Spans sent to the OTLP endpoint.")
        self.dropped = registry?.counter("switchboard_spans_dropped", help: "Spans dropped because the export queue was full.")
        self.failures = registry?.counter(
            "switchboard_span_export_failures",
            help: "Span batches that could not be exported after retries.",
            labels: ["reason"]
        )
    }

    /// Queues `span`; never waits. Drops it, counted, when the queue is full.
    public func onEnd(_ span: SpanData) {
        enum Result { case dropped, queued(wake: CheckedContinuation<Void, Never>?) }
        let result = self.state.withLock { state -> Result in
            guard !state.isShuttingDown, state.queue.count < self.configuration.maxQueueSize else { return .dropped }
            state.queue.append(span)
            return .queued(wake: state.queue.count >= self.configuration.maxExportBatchSize ? self.takeWaiter(&state) : nil)
        }
        switch result {
        case .dropped: self.dropped?.increment()
        case .queued(let wake): wake?.resume()
        }
    }

    /// Spans waiting now.
    public var queuedCount: Int { self.state.withLock { $0.queue.count } }

    /// Exports batches until ``shutdown()``; run it in a task of its own.
    public func run() async {
        while true {
            let (batch, isShuttingDown) = await self.nextBatch()
            if !batch.isEmpty {
                let outcome = await self.export(batch)
                switch outcome {
                case .exported: self.exported?.increment(by: Double(batch.count))
                case .partiallyExported(let rejected): self.exported?.increment(by: Double(batch.count) - Double(rejected))
                case .failed(let reason): self.failures?.increment([reason.hasPrefix("HTTP") ? String(reason.prefix(8)) : "transport"])
                }
            } else if isShuttingDown {
                break
            }
        }
        let stopped = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.hasStopped = true
            return state.stopped
        }
        stopped?.resume()
    }

    /// Stops the loop once everything queued has been exported.
    public func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (wake, alreadyStopped) = self.state.withLock { state -> (CheckedContinuation<Void, Never>?, Bool) in
                state.isShuttingDown = true
                if state.hasStopped { return (nil, true) }
                state.stopped = continuation
                return (self.takeWaiter(&state), false)
            }
            wake?.resume()
            if alreadyStopped { continuation.resume() }
        }
    }

    /// The next batch: full, or whatever is there when the delay passes or shutdown begins.
    private func nextBatch() async -> ([SpanData], Bool) {
        let ready = self.state.withLock { state -> Bool in
            state.queue.count >= self.configuration.maxExportBatchSize || state.isShuttingDown
        }
        if !ready {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.queue.count >= self.configuration.maxExportBatchSize || state.isShuttingDown { return true }
                    state.waiter = continuation
                    let delay = self.configuration.scheduleDelay
                    state.timer = Task { [weak self] in
                        try? await Task.sleep(for: delay)
                        guard !Task.isCancelled, let self else { return }
                        let waiter = self.state.withLock { self.takeWaiter(&$0) }
                        waiter?.resume()
                    }
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        return self.state.withLock { state in
            let count = min(state.queue.count, self.configuration.maxExportBatchSize)
            let batch = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return (batch, state.isShuttingDown)
        }
    }

    private func takeWaiter(_ state: inout State) -> CheckedContinuation<Void, Never>? {
        state.timer?.cancel()
        state.timer = nil
        defer { state.waiter = nil }
        return state.waiter
    }
}
