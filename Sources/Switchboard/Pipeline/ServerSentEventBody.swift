import NIOCore
import Upstream

/// Stage 8 for streaming clients: events → SSE bytes, written as they come. Events already at hand
/// when one arrives (a ``ReadyEvents`` source says which) go out in the same chunk: one write and
/// one system call instead of one each, and no event waits for a later one.
///
/// A failure mid-stream cannot change the status any more, so it becomes a final `event: error`,
/// which Anthropic's clients raise as an API error.
struct ServerSentEventBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let events: AnthropicEventStream
    let accounting: ExchangeAccounting

    struct AsyncIterator: AsyncIteratorProtocol {
        var events: any AsyncIteratorProtocol<AnthropicEvent, any Error>
        /// The same iterator, when it can say which events it already holds; cast once, not per event.
        let ready: (any ReadyEvents)?
        let accounting: ExchangeAccounting
        var isFinished = false

        mutating func next() async throws -> ByteBuffer? {
            guard !self.isFinished else { return nil }
            var chunk = ByteBuffer()
            do {
                guard let event = try await self.events.next() else {
                    // A cancelled read may end the sequence early: that is the client gone, not the end.
                    try Task.checkCancellation()
                    self.accounting.streamEnded()
                    return nil
                }
                self.append(event, to: &chunk)
                self.appendReadyEvents(to: &chunk)
            } catch where error is CancellationError || Task.isCancelled {
                throw CancellationError()
            } catch {
                // What the source made before it failed (events of the same upstream chunk) still goes
                // out, in order; the error is the stream's last event.
                self.appendReadyEvents(to: &chunk)
                self.isFinished = true
                self.append(.error(self.accounting.streamFailed(error)), to: &chunk)
            }
            return chunk
        }

        private func appendReadyEvents(to chunk: inout ByteBuffer) {
            guard let ready = self.ready else { return }
            while let event = ready.nextIfReady() { self.append(event, to: &chunk) }
        }

        private func append(_ event: AnthropicEvent, to chunk: inout ByteBuffer) {
            self.accounting.observe(event)
            event.writeServerSentEvent(into: &chunk)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let events = self.events.makeAsyncIterator()
        return AsyncIterator(events: events, ready: events as? any ReadyEvents, accounting: self.accounting)
    }
}

/// An event iterator that can hand over, without waiting, the events it already holds.
protocol ReadyEvents: AnyObject {
    /// The next event if one is already here; nil when the iterator would have to wait, or when what
    /// comes next is the end or a failure (which `next()` then reports).
    func nextIfReady() -> AnthropicEvent?
}
