import Synchronization

/// Passes events through, and yields a `ping` whenever the upstream has been silent for `interval`.
///
/// Claude Code gives up on a stream after five minutes without a byte, and a model that thinks
/// silently can take that long. The upstream is read by a task of its own, handing each event over
/// one at a time (so backpressure still reaches the upstream); the reader waits at most `interval`.
struct KeepAliveEvents: AsyncSequence, Sendable {
    typealias Element = AnthropicEvent

    let base: AnthropicEventStream
    let interval: Duration

    final class AsyncIterator: AsyncIteratorProtocol {
        private let handoff = Handoff()
        private let reader: Task<Void, Never>
        private let interval: Duration
        private var isDone = false

        init(base: AnthropicEventStream, interval: Duration) {
            self.interval = interval
            let handoff = self.handoff
            self.reader = Task {
                do {
                    for try await event in base {
                        guard await handoff.put(.event(event)) else { return }
                    }
                    _ = await handoff.put(.end)
                } catch {
                    _ = await handoff.put(.failure(error))
                }
            }
        }

        deinit {
            self.reader.cancel()
        }

        func next() async throws -> AnthropicEvent? {
            guard !self.isDone else { return nil }
            switch await self.handoff.take(waitingAtMost: self.interval) {
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

/// A one-slot rendezvous between the reading task and the consumer: `put` waits until its item is
/// taken; `take` waits for an item, but not longer than it is told.
private final class Handoff: Sendable {
    enum Item: Sendable {
        case event(AnthropicEvent)
        case end
        case failure(any Error)
    }

    private struct State {
        var item: Item?
        var producer: CheckedContinuation<Bool, Never>?
        var consumer: (id: UInt64, continuation: CheckedContinuation<Item?, Never>, timer: Task<Void, Never>)?
        var nextID: UInt64 = 0
        var isCancelled = false
    }

    private let state = Mutex(State())

    /// Hands `item` over and waits until it is taken. False when the reading task was cancelled.
    func put(_ item: Item) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                // Decided in one critical section: the cancellation handler may run at any moment, and
                // whoever takes `producer` out of the state is the one who resumes it.
                enum Decision {
                    case handOver(CheckedContinuation<Item?, Never>, Task<Void, Never>)
                    case wait
                    case cancelled
                }
                let decision = self.state.withLock { state -> Decision in
                    if state.isCancelled { return .cancelled }
                    if let consumer = state.consumer {
                        state.consumer = nil
                        return .handOver(consumer.continuation, consumer.timer)
                    }
                    state.item = item
                    state.producer = continuation
                    return .wait
                }
                switch decision {
                case .handOver(let consumer, let timer):
                    timer.cancel()
                    consumer.resume(returning: item)
                    continuation.resume(returning: true)
                case .cancelled:
                    continuation.resume(returning: false)
                case .wait:
                    break
                }
            }
        } onCancel: {
            let producer = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
                state.isCancelled = true
                defer { state.producer = nil }
                return state.producer
            }
            producer?.resume(returning: false)
        }
    }

    /// The next item, or nil when none came within `timeout`.
    func take(waitingAtMost timeout: Duration) async -> Item? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            // One critical section: an item put between "none yet" and "waiting" must not be missed.
            let ready = self.state.withLock { state -> (Item, CheckedContinuation<Bool, Never>?)? in
                if let item = state.item {
                    state.item = nil
                    defer { state.producer = nil }
                    return (item, state.producer)
                }
                let id = state.nextID
                state.nextID += 1
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    self.expire(id)
                }
                state.consumer = (id, continuation, timer)
                return nil
            }
            if let (item, producer) = ready {
                producer?.resume(returning: true)
                continuation.resume(returning: item)
            }
        }
    }

    private func expire(_ id: UInt64) {
        let expired = self.state.withLock { state -> CheckedContinuation<Item?, Never>? in
            guard let consumer = state.consumer, consumer.id == id else { return nil }
            state.consumer = nil
            return consumer.continuation
        }
        expired?.resume(returning: nil)
    }
}
