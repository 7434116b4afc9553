import NIOCore
import Upstream

/// One answer's translation into Anthropic events, JSON chunk by JSON chunk: what a translating provider
/// (Gemini, Chat Completions) gives ``TranslatedEventSequence``. One per attempt.
protocol AnswerTranslation {
    /// Translates one chunk: an SSE event's data, or a whole non-streamed body. An error object in its place
    /// is thrown as ``UpstreamReportedError``.
    mutating func consume(json: JSONValue) throws -> [AnthropicEvent]
    /// The closing events, once the upstream has nothing more; a ``RetryableAnswerFailure`` when the answer
    /// failed in a way that sending the request again may cure.
    mutating func finish() throws -> [AnthropicEvent]
    /// What the translation changed, dropped or guessed.
    var events: [TranslationEvent] { get }
    /// Output tokens spent thinking, where the upstream said.
    var thinkingTokens: Int { get }
}

/// An answer that must not reach the client as it is, and that another try may cure (a malformed call).
protocol RetryableAnswerFailure: Error {
    /// Nothing reached the client yet, so the request may be sent again.
    var canRetry: Bool { get }
    /// The note the failure leaves on the exchange (`malformed_call`).
    var note: TranslationEvent { get }
    /// The client's error, once no retry is left; `repeated` when this was the second try.
    func clientError(repeated: Bool) -> AnthropicError
}

/// Reads an upstream's answer (SSE events, or one JSON body) and yields its translation's Anthropic events.
///
/// When the answer ends in a ``RetryableAnswerFailure`` before anything reached the client, the request is
/// sent once more; a second failure, or one after content was sent, is the error the client sees. Never a
/// silent end of turn, never a broken tool call.
struct TranslatedEventSequence<Translation: AnswerTranslation>: AsyncSequence, Sendable {
    typealias Element = AnthropicEvent

    /// The provider's name, for messages.
    let provider: String
    let first: UpstreamResponse
    let isStreaming: Bool
    let exchange: Exchange
    /// Sends the request again, for the one retry.
    let reopen: @Sendable () async throws -> UpstreamResponse
    let makeTranslation: @Sendable () -> Translation

    /// A class so that ``ServerSentEventBody`` can take, through ``ReadyEvents``, the events one upstream
    /// chunk became without waiting for each.
    final class AsyncIterator: AsyncIteratorProtocol, ReadyEvents {
        private let sequence: TranslatedEventSequence
        private var body: UpstreamBody.AsyncIterator
        private var translation: Translation
        private var decoder = ServerSentEventDecoder()
        private var collected = ByteBuffer()
        private var ready: [AnthropicEvent] = []
        private var readyIndex = 0
        private var isFinished = false
        private var attempts = 1

        fileprivate init(sequence: TranslatedEventSequence) {
            self.sequence = sequence
            self.body = sequence.first.body.makeAsyncIterator()
            self.translation = sequence.makeTranslation()
        }

        func next() async throws -> AnthropicEvent? {
            while self.readyIndex == self.ready.count {
                if self.isFinished { return nil }
                self.ready.removeAll(keepingCapacity: true)
                self.readyIndex = 0
                try await self.readMore()
            }
            return self.nextIfReady()
        }

        func nextIfReady() -> AnthropicEvent? {
            guard self.readyIndex < self.ready.count else { return nil }
            defer { self.readyIndex += 1 }
            return self.ready[self.readyIndex]
        }

        private func readMore() async throws {
            if let chunk = try await self.body.next() {
                if chunk.readableBytes == 0 {
                    self.ready.append(.ping)  // the upstream's heartbeat: silent for a ping interval
                } else if self.sequence.isStreaming {
                    for event in self.decoder.append(chunk) { try self.consume(event.data) }
                } else {
                    var chunk = chunk
                    self.collected.writeBuffer(&chunk)
                }
                return
            }
            // A cancelled read ends the body early: the client has gone, this is no answer to finish.
            try Task.checkCancellation()
            if self.sequence.isStreaming {
                if let tail = self.decoder.finish() { try self.consume(tail.data) }
            } else if self.collected.readableBytes > 0 {
                try self.translate { try self.collected.withUnsafeReadableBytes { try JSONParser.parse($0) } }
            }
            do {
                self.ready += try self.translation.finish()
                self.isFinished = true
                let events = self.translation.events
                let thinking = self.translation.thinkingTokens
                self.sequence.exchange.update { record in
                    record.translationEvents += events
                    record.thinkingTokens = thinking
                }
            } catch let failure as any RetryableAnswerFailure {
                // The failed try's other notes are not kept: the retry makes its own.
                self.sequence.exchange.update { $0.translationEvents.append(failure.note) }
                self.sequence.exchange.failAttempt("malformed_call")
                guard failure.canRetry, self.attempts < 2 else { throw failure.clientError(repeated: self.attempts > 1) }
                self.attempts += 1
                self.body = try await self.sequence.reopen().body.makeAsyncIterator()
                self.translation = self.sequence.makeTranslation()
                self.decoder = ServerSentEventDecoder()
                self.collected.clear()
            }
        }

        /// An SSE event's data. Chat Completions servers end with `data: [DONE]`, or do not: the body's end
        /// ends the answer either way.
        private func consume(_ data: String) throws {
            guard !data.isEmpty, data != "[DONE]" else { return }
            try self.translate { try JSONValue.parse(data) }
        }

        private func translate(_ parse: () throws -> JSONValue) throws {
            do {
                self.ready += try self.translation.consume(json: try parse())
            } catch let reported as UpstreamReportedError {
                throw reported
            } catch {
                throw AnthropicError.api("\(self.sequence.provider) sent a response Switchboard could not read: \(error)", status: 502)
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(sequence: self)
    }
}
