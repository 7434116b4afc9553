import Synchronization

/// A bounded queue between a stream's reading task and its consumer. `put` waits only while the
/// queue is full; `take` waits while it is empty, and is answered nil (a ping) by
/// ``pingIfSilent(for:)``.
final class EventQueue: Sendable {
    enum Item: Sendable {
        case event(AnthropicEvent)
        case end
        case failure(any Error)
    }

    /// Enough for the events one upstream chunk turns into; small enough to keep backpressure.
    static let capacity = 8

    private struct State {
        var items: [Item] = []
        /// The reader, waiting for room.
        var producer: (item: Item, continuation: CheckedContinuation<Bool, Never>)?
        /// The consumer, waiting for an item.
        var consumer: CheckedContinuation<Item?, Never>?
        var lastActivity = ContinuousClock.now
        var isCancelled = false

        /// Removes the first item; a waiting reader's item takes the freed place, and the reader is
        /// returned, to be resumed outside the lock.
        mutating func removeFirst() -> (Item, CheckedContinuation<Bool, Never>?) {
            let item = self.items.removeFirst()
            guard let producer = self.producer else { return (item, nil) }
            self.producer = nil
            self.items.append(producer.item)
            return (item, producer.continuation)
        }
    }

    private let state = Mutex(State())

    /// Queues `item`, waiting while the queue is full. False when the reading task was cancelled.
    func put(_ item: Item) async -> Bool {
        enum Decision {
            case handOver(CheckedContinuation<Item?, Never>)
            case queued
            case full
            case cancelled
        }
        // Decided in one critical section each time: the consumer and the cancellation handler may act
        // at any moment, and whoever takes a continuation out of the state is the one who resumes it.
        func decide(_ state: inout State) -> Decision {
            if state.isCancelled { return .cancelled }
            state.lastActivity = .now
            if let consumer = state.consumer {
                state.consumer = nil
                return .handOver(consumer)
            }
            guard state.items.count < Self.capacity else { return .full }
            state.items.append(item)
            return .queued
        }
        switch self.state.withLock({ decide(&$0) }) {
        case .handOver(let consumer):
            consumer.resume(returning: item)
            return true
        case .queued: return true
        case .cancelled: return false
        case .full: break
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let decision = self.state.withLock { state -> Decision in
                    let decision = decide(&state)
                    if case .full = decision { state.producer = (item, continuation) }
                    return decision
                }
                switch decision {
                case .handOver(let consumer):
                    consumer.resume(returning: item)
                    continuation.resume(returning: true)
                case .queued: continuation.resume(returning: true)
                case .cancelled: continuation.resume(returning: false)
                case .full: break
                }
            }
        } onCancel: {
            let producer = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
                state.isCancelled = true
                defer { state.producer = nil }
                return state.producer?.continuation
            }
            producer?.resume(returning: false)
        }
    }

    /// The next item; nil when ``pingIfSilent(for:)`` answered first.
    func take() async -> Item? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            // One critical section: an item put between "none yet" and "waiting" must not be missed.
            let ready = self.state.withLock { state -> (Item, CheckedContinuation<Bool, Never>?)? in
                guard !state.items.isEmpty else {
                    state.consumer = continuation
                    return nil
                }
                return state.removeFirst()
            }
            if let (item, producer) = ready {
                producer?.resume(returning: true)
                continuation.resume(returning: item)
            }
        }
    }

    /// The first queued item if it is an event, without waiting; the end and failures stay for `take`.
    func takeEventIfReady() -> AnthropicEvent? {
        let ready = self.state.withLock { state -> (Item, CheckedContinuation<Bool, Never>?)? in
            guard case .event? = state.items.first else { return nil }
            return state.removeFirst()
        }
        guard let (item, producer) = ready, case .event(let event) = item else { return nil }
        producer?.resume(returning: true)
        return event
    }

    /// Answers a waiting consumer with a ping when nothing arrived for `interval`. A consumer still busy
    /// with the last event needs none.
    func pingIfSilent(for interval: Duration) {
        let now = ContinuousClock.now
        let waiting = self.state.withLock { state -> CheckedContinuation<Item?, Never>? in
            guard now - state.lastActivity >= interval, let consumer = state.consumer else { return nil }
            state.consumer = nil
            state.lastActivity = now
            return consumer
        }
        waiting?.resume(returning: nil)
    }
}
