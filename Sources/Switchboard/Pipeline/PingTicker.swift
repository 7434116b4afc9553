import Synchronization

/// One timer for every stream with the same ping interval: each tick, queues whose consumer has
/// waited the interval get a ping. A timer task per stream cost a task, a dispatch timer and a
/// cancellation on every response, the smallest included; a shared one costs a lock and a
/// dictionary entry. Pings come between `interval` and `interval + interval / 4` of silence.
final class PingTicker: Sendable {
    private let interval: Duration
    private let queues = Mutex<[ObjectIdentifier: EventQueue]>([:])

    private init(interval: Duration) {
        self.interval = interval
    }

    private static let tickers = Mutex<[Duration: PingTicker]>([:])

    /// The ticker for `interval`, started on first use; it lives as long as the process.
    static func shared(interval: Duration) -> PingTicker {
        let (ticker, isNew) = Self.tickers.withLock { tickers in
            if let ticker = tickers[interval] { return (ticker, false) }
            let ticker = PingTicker(interval: interval)
            tickers[interval] = ticker
            return (ticker, true)
        }
        if isNew {
            Task.detached { await ticker.run() }
        }
        return ticker
    }

    func register(_ queue: EventQueue) {
        self.queues.withLock { $0[ObjectIdentifier(queue)] = queue }
    }

    func unregister(_ queue: EventQueue) {
        self.queues.withLock { $0[ObjectIdentifier(queue)] = nil }
    }

    private func run() async {
        while true {
            try? await Task.sleep(for: self.interval / 4)
            let queues = self.queues.withLock { Array($0.values) }
            for queue in queues { queue.pingIfSilent(for: self.interval) }
        }
    }
}
