import NIOCore
import Upstream

/// Reads a Chat Completions answer (SSE chunks ending in `data: [DONE]` or not, or one JSON body) and
/// yields Anthropic events.
///
/// When a tool call's arguments are not JSON and nothing has reached the client yet, the request is sent
/// once more; a second failure, or one after content was sent, is an error the client sees — never a
/// broken `tool_use`.
struct ChatCompletionsEventSequence: AsyncSequence, Sendable {
    typealias Element = AnthropicEvent

    let first: UpstreamResponse
    let isStreaming: Bool
    let exchange: Exchange
    let errors: ChatCompletionsErrorMapper
    /// Sends the request again, for the one retry.
    let reopen: @Sendable () async throws -> UpstreamResponse
    let makeTranslator: @Sendable () -> ChatCompletionsResponseTranslator

    /// A class so that ``ServerSentEventBody`` can take, through ``ReadyEvents``, the events one upstream
    /// chunk became without waiting for each.
    final class AsyncIterator: AsyncIteratorProtocol, ReadyEvents {
        private let sequence: ChatCompletionsEventSequence
        private var body: UpstreamBody.AsyncIterator
        private var translator: ChatCompletionsResponseTranslator
        private var decoder = ServerSentEventDecoder()
        private var collected = ByteBuffer()
        private var ready: [AnthropicEvent] = []
        private var readyIndex = 0
        private var isFinished = false
        private var attempts = 1

        fileprivate init(sequence: ChatCompletionsEventSequence) {
            self.sequence = sequence
            self.body = sequence.first.body.makeAsyncIterator()
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
                try self.consume(String(buffer: self.collected))
            }
            do {
                self.ready += try self.translator.finish()
                self.isFinished = true
                let events = self.translator.events
                let thinking = self.translator.thinkingTokens
                self.sequence.exchange.update { record in
                    record.translationEvents += events
                    record.thinkingTokens = thinking
                }
            } catch let malformed as ChatCompletionsResponseTranslator.MalformedArguments {
                let events = self.translator.events
                self.sequence.exchange.update { $0.translationEvents += events }
                self.sequence.exchange.failAttempt("malformed_call")
                guard malformed.canRetry, self.attempts < 2 else {
                    throw AnthropicError.api(
                        "\(self.sequence.errors.provider) sent a call to \(malformed.tool) whose arguments are not JSON"
                            + (self.attempts > 1 ? ", twice" : ""),
                        status: 502
                    )
                }
                self.attempts += 1
                self.body = try await self.sequence.reopen().body.makeAsyncIterator()
                self.translator = self.sequence.makeTranslator()
                self.decoder = ServerSentEventDecoder()
                self.collected.clear()
            }
        }

        /// Translates one chunk (an SSE event's data, or the whole body). `[DONE]` ends nothing by itself:
        /// the body's end does, so servers that omit it are read the same. An `error` object instead is the
        /// upstream's error.
        private func consume(_ data: String) throws {
            guard !data.isEmpty, data != "[DONE]" else { return }
            let chunk: ChatCompletionsChunk
            do {
                let json = try JSONValue.parse(data)
                if let error = json["error"], json["choices"] == nil {
                    throw UpstreamReportedError(error: self.sequence.errors.midStream(error))
                }
                chunk = try ChatCompletionsChunk(json: json)
            } catch let reported as UpstreamReportedError {
                throw reported
            } catch {
                throw AnthropicError.api(
                    "\(self.sequence.errors.provider) sent a response Switchboard could not read: \(error)", status: 502
                )
            }
            self.ready += self.translator.consume(chunk)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(sequence: self)
    }
}
