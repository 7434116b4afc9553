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

    struct AsyncIterator: AsyncIteratorProtocol {
        var body: UpstreamBody.AsyncIterator
        let isStreaming: Bool
        let exchange: Exchange
        let reopen: @Sendable () async throws -> UpstreamResponse
        let makeTranslator: @Sendable () -> GeminiResponseTranslator
        var translator: GeminiResponseTranslator
        var decoder = ServerSentEventDecoder()
        var collected = ByteBuffer()
        var ready: [AnthropicEvent] = []
        var readyIndex = 0
        var isFinished = false
        var attempts = 1

        mutating func next() async throws -> AnthropicEvent? {
            while self.readyIndex == self.ready.count {
                if self.isFinished { return nil }
                self.ready.removeAll(keepingCapacity: true)
                self.readyIndex = 0
                try await self.readMore()
            }
            defer { self.readyIndex += 1 }
            return self.ready[self.readyIndex]
        }

        private mutating func readMore() async throws {
            if let chunk = try await self.body.next() {
                if self.isStreaming {
                    for event in self.decoder.append(chunk) { try self.consume(event.data) }
                } else {
                    var chunk = chunk
                    self.collected.writeBuffer(&chunk)
                }
                return
            }
            if self.isStreaming {
                if let tail = self.decoder.finish() { try self.consume(tail.data) }
            } else {
                try self.consume(String(buffer: self.collected))
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
                guard malformed.canRetry, self.attempts < 2 else {
                    self.exchange.update { $0.upstreamError = "malformed_call" }
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

        private mutating func consume(_ data: String) throws {
            guard !data.isEmpty else { return }
            let response: GeminiResponse
            do {
                response = try GeminiResponse(json: JSONValue.parse(data))
            } catch {
                throw AnthropicError.api("gemini sent a response Switchboard could not read: \(error)", status: 502)
            }
            self.ready += self.translator.consume(response)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            body: self.first.body.makeAsyncIterator(),
            isStreaming: self.isStreaming,
            exchange: self.exchange,
            reopen: self.reopen,
            makeTranslator: self.makeTranslator,
            translator: self.makeTranslator()
        )
    }
}
