/// Passes events through, and yields a `ping` whenever the upstream has been silent for `interval`.
///
/// Claude Code gives up on a stream after five minutes without a byte, and a model that thinks
/// silently can take that long. The upstream is read by a task of its own into a small bounded
/// ``EventQueue`` (so backpressure still reaches the upstream); the ``PingTicker`` shared by every
/// stream with this interval pings a consumer that has waited `interval` since the last event.
/// Events that arrive together pass without a task switch each: the reader waits only when the
/// queue is full, the consumer only when it is empty.
struct KeepAliveEvents: AsyncSequence, Sendable {
    typealias Element = AnthropicEvent

    let base: AnthropicEventStream
    let interval: Duration

    final class AsyncIterator: AsyncIteratorProtocol {
        fileprivate let queue: EventQueue
        private let reader: Task<Void, Never>
        private let ticker: PingTicker
        private var isDone = false

        init(base: AnthropicEventStream, interval: Duration) {
            let queue = EventQueue()
            self.queue = queue
            self.reader = Task {
                do {
                    for try await event in base {
                        guard await queue.put(.event(event)) else { return }
                    }
                    _ = await queue.put(.end)
                } catch {
                    _ = await queue.put(.failure(error))
                }
            }
            self.ticker = PingTicker.shared(interval: interval)
            self.ticker.register(queue)
        }

        deinit {
            self.reader.cancel()
            self.ticker.unregister(self.queue)
        }

        func next() async throws -> AnthropicEvent? {
            guard !self.isDone else { return nil }
            switch await self.queue.take() {
            case .event(let event)?: return event
            case .end?:
                self.isDone = true
                return nil
            case .failure(let error)?:
                self.isDone = true
                throw error
            case nil:
                return .ping
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.base, interval: self.interval)
    }
}

extension KeepAliveEvents.AsyncIterator: ReadyEvents {
    func nextIfReady() -> AnthropicEvent? {
        self.queue.takeEventIfReady()
    }
}
