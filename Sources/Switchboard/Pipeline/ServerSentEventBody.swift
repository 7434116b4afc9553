import NIOCore
import Upstream

/// Stage 8 for streaming clients: events → SSE bytes, one chunk per event, written as they come.
///
/// A failure mid-stream cannot change the status any more, so it becomes a final `event: error`,
/// which Anthropic's clients raise as an API error.
struct ServerSentEventBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let events: AnthropicEventStream
    let accounting: EventAccounting
    let provider: String

    struct AsyncIterator: AsyncIteratorProtocol {
        var events: any AsyncIteratorProtocol<AnthropicEvent, any Error>
        let accounting: EventAccounting
        let provider: String
        var isFinished = false

        mutating func next() async throws -> ByteBuffer? {
            guard !self.isFinished else { return nil }
            let event: AnthropicEvent
            do {
                guard let next = try await self.events.next() else {
                    self.accounting.exchange.mark(.upstreamFinished)
                    return nil
                }
                event = next
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                self.isFinished = true
                self.accounting.exchange.mark(.upstreamFinished)
                event = .error(AnthropicError(midStream: error, provider: self.provider))
            }
            self.accounting.observe(event)
            return event.serverSentEvent()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(events: self.events.makeAsyncIterator(), accounting: self.accounting, provider: self.provider)
    }
}

extension AnthropicError {
    /// The error a client sees for a failure after the response began.
    init(midStream error: any Error, provider: String) {
        switch error {
        case let error as AnthropicError: self = error
        case let error as UpstreamError: self.init(upstream: error, provider: provider)
        default: self = .api("the \(provider) stream failed: \(error)")
        }
    }
}
