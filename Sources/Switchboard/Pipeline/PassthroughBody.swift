import NIOCore

/// Forwards an upstream body unchanged. If the upstream breaks off an event stream, a final
/// `event: error` tells the client why instead of a silent truncation.
struct PassthroughBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let body: ByteStream
    let isEventStream: Bool
    let exchange: Exchange
    let provider: String

    struct AsyncIterator: AsyncIteratorProtocol {
        var body: any AsyncIteratorProtocol<ByteBuffer, any Error>
        let isEventStream: Bool
        let exchange: Exchange
        let provider: String
        var isFinished = false

        mutating func next() async throws -> ByteBuffer? {
            guard !self.isFinished else { return nil }
            do {
                return try await self.body.next()
            } catch where self.isEventStream && !(error is CancellationError) {
                self.isFinished = true
                let failure = AnthropicError(midStream: error, provider: self.provider)
                self.exchange.update { $0.errorType = failure.type }
                return try AnthropicEvent.error(failure).serverSentEvent()
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            body: self.body.makeAsyncIterator(),
            isEventStream: self.isEventStream,
            exchange: self.exchange,
            provider: self.provider
        )
    }
}
