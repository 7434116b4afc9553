import NIOCore
import Upstream

/// Reads Gemini's answer (SSE chunks, or one JSON body) and yields Anthropic events.
///
/// When the answer ends in `MALFORMED_FUNCTION_CALL` or `UNEXPECTED_TOOL_CALL` before anything
/// reached the client, the request is sent once more; a second failure, or one after content was
/// sent, is an error the client sees. Never a silent `end_turn`.
struct GeminiEventSequence: AsyncSequence, Sendable {
    typealias Element = AnthropicEvent

    let first: UpstreamResponse
    let isStreaming: Bool
    let exchange: Exchange
    /// Sends the request again, for the one retry.
    let reopen: @Sendable () async throws -> UpstreamResponse
    let makeTranslator: @Sendable () -> GeminiResponseTranslator

    /// A class so that ``ServerSentEventBody`` can take, through ``ReadyEvents``, the events one
    /// upstream chunk became without waiting for each.
    final class AsyncIterator: AsyncIteratorProtocol, ReadyEvents {
        private var body: UpstreamBody.AsyncIterator
        private let isStreaming: Bool
        private let exchange: Exchange
        private let reopen: @Sendable () async throws -> UpstreamResponse
        private let makeTranslator: @Sendable () -> GeminiResponseTranslator
        private var translator: GeminiResponseTranslator
        private var decoder = ServerSentEventDecoder()
        private var collected = ByteBuffer()
        private var ready: [AnthropicEvent] = []
        private var readyIndex = 0
        private var isFinished = false
        private var attempts = 1

        fileprivate init(sequence: GeminiEventSequence) {
            self.body = sequence.first.body.makeAsyncIterator()
            self.isStreaming = sequence.isStreaming
            self.exchange = sequence.exchange
            self.reopen = sequence.reopen
            self.makeTranslator = sequence.makeTranslator
            self.translator = sequence.makeTranslator()
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
                } else if self.isStreaming {
                    for event in self.decoder.append(chunk) where !event.data.isEmpty {
                        try self.consume { try JSONValue.parse(event.data) }
                    }
                } else {
                    var chunk = chunk
                    self.collected.writeBuffer(&chunk)
                }
                return
            }
            // A cancelled read ends the body early: the client has gone, this is no answer to finish.
            try Task.checkCancellation()
            if self.isStreaming {
                if let tail = self.decoder.finish(), !tail.data.isEmpty { try self.consume { try JSONValue.parse(tail.data) } }
            } else if self.collected.readableBytes > 0 {
                try self.consume { try self.collected.withUnsafeReadableBytes { try JSONParser.parse($0) } }
            }
            do {
                self.ready += try self.translator.finish()
                self.isFinished = true
                let events = self.translator.events
                let thinking = self.translator.thinkingTokens
                self.exchange.update { record in
                    record.translationEvents += events
                    record.thinkingTokens = thinking
                }
            } catch let malformed as GeminiResponseTranslator.MalformedCall {
                let detail = "\(malformed.reason): \(malformed.message ?? "")"
                self.exchange.update { $0.translationEvents.append(TranslationEvent(.malformedCall, detail)) }
                self.exchange.failAttempt("malformed_call")
                guard malformed.canRetry, self.attempts < 2 else {
                    throw AnthropicError.api(
                        "gemini ended the response with \(malformed.reason)\(self.attempts > 1 ? " twice" : ""); \(malformed.message ?? "no detail")",
                        status: 502
                    )
                }
                self.attempts += 1
                self.body = try await self.reopen().body.makeAsyncIterator()
                self.translator = self.makeTranslator()
                self.decoder = ServerSentEventDecoder()
                self.collected.clear()
            }
        }

        /// Translates one Gemini response, which `parse` reads from an SSE event or the whole body. An
        /// `error` object instead (Gemini's way to fail a stream that began with 200) is the upstream's error.
        private func consume(_ parse: () throws -> JSONValue) throws {
            let response: GeminiResponse
            do {
                let json = try parse()
                if let error = json["error"] { throw UpstreamReportedError(error: GeminiErrorMapper.midStream(error)) }
                response = try GeminiResponse(json: json)
            } catch let reported as UpstreamReportedError {
                throw reported
            } catch {
                throw AnthropicError.api("gemini sent a response Switchboard could not read: \(error)", status: 502)
            }
            self.ready += self.translator.consume(response)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(sequence: self)
    }
}
