import NIOCore

/// A response body as an async sequence of byte chunks, with backpressure.
///
/// While the consumer keeps up, chunks flow; when a few are buffered unread, the transfer pauses in curl
/// and resumes when the consumer asks for more. Dropping the iterator, or cancelling the task reading
/// it, removes the transfer at once.
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    typealias Producer = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, CurlTransferDelegate
    >

    private let producer: Producer

    init(producer: Producer) {
        self.producer = producer
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Producer.AsyncIterator

        public mutating func next() async throws -> ByteBuffer? {
            try await self.base.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.producer.makeAsyncIterator())
    }
}
