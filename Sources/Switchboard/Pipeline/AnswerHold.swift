import NIOCore
import Synchronization
import Upstream

/// Holds the start of an answer back until its first content, so that a failure before it can still be
/// retried or fallen back from: until then nothing has reached the client, and the router may send the
/// request elsewhere. Once content arrives the answer is committed, and what was held goes out first.
///
/// A heartbeat `ping` commits the answer too unless a `stream_timeout` bounds the wait: without one, a
/// model that thinks in silence must not keep the client without a byte for longer than a ping interval.
struct AnswerHold: Sendable {
    let exchange: Exchange
    let provider: String
    /// Whether a refusal before any content is a failure (the group has `content_policy_fallbacks`).
    let refusalIsFailure: Bool
    let commitOnPing: Bool
    /// Keeps the deployment counted as busy until the answer is over.
    let lease: DeploymentLease

    /// The reply, with its start read ahead; throws ``AttemptFailure`` when it failed before any content.
    func hold(_ reply: ProviderReply) async throws -> ProviderReply {
        switch reply {
        case .events(let events):
            return .events(try await self.holdEvents(events))
        case .passthrough(let status, let headers, let body) where status >= 400:
            let bytes = (try? await Self.collect(body, upTo: 1 << 20)) ?? ByteBuffer()
            throw AttemptFailure(AnthropicError(passthroughStatus: status, body: bytes, headers: headers))
        case .passthrough(let status, let headers, let body):
            let isEventStream = headers.contains { $0.name.lowercased() == "content-type" && $0.value.hasPrefix("text/event-stream") }
            guard isEventStream else { return .passthrough(status: status, headers: headers, body: LeasedBytes(body, lease: self.lease)) }
            return .passthrough(status: status, headers: headers, body: try await self.holdBytes(body, status: status))
        case .tokenCount:
            return reply
        }
    }

    private func holdEvents(_ events: AnthropicEventStream) async throws -> HeldEvents {
        let iterator = HeldEvents.Source(events.makeAsyncIterator(), lease: self.lease)
        var held: [AnthropicEvent] = []
        do {
            while let event = try await iterator.next() {
                switch event {
                case .messageStart:
                    held.append(event)
                    continue
                case .ping:
                    guard self.commitOnPing else { continue }
                case .messageDelta(let stopReason, _, _) where stopReason == "refusal" && self.refusalIsFailure:
                    self.exchange.failAttempt("content_policy")
                    throw AttemptFailure(
                        kind: .contentPolicy,
                        error: .invalidRequest("\(self.provider) refused to answer (a safety block or refusal)")
                    )
                default:
                    break
                }
                held.append(event)
                return HeldEvents(held: held, source: iterator)
            }
            try Task.checkCancellation()
            return HeldEvents(held: held, source: iterator)
        } catch let error where !(error is AttemptFailure) && !(error is CancellationError) && !Task.isCancelled {
            throw self.failure(error)
        }
    }

    /// Anthropic's own stream, passed through: held until a content block starts, an `error` event before
    /// that fails the attempt.
    private func holdBytes(_ body: ByteStream, status: Int) async throws -> ByteStream {
        var iterator = body.makeAsyncIterator()
        var decoder = ServerSentEventDecoder()
        var held = ByteBuffer()
        do {
            while var chunk = try await iterator.next() {
                let events = decoder.append(chunk)
                held.writeBuffer(&chunk)
                for event in events {
                    switch event.name {
                    case "error":
                        let error = AnthropicError(passthroughStatus: 500, body: ByteBuffer(string: event.data), headers: [])
                        let kind = UpstreamReportedError.kind(ofType: error.type)
                        self.exchange.failAttempt(kind)
                        throw AttemptFailure(AnthropicError(status: Self.status(ofType: error.type), type: error.type, message: error.message))
                    case "content_block_start", "content_block_delta":
                        return HeldBytes(held: held, rest: iterator, lease: self.lease)
                    case "ping" where self.commitOnPing:
                        return HeldBytes(held: held, rest: iterator, lease: self.lease)
                    default:
                        continue
                    }
                }
            }
            try Task.checkCancellation()
            return HeldBytes(held: held, rest: iterator, lease: self.lease)
        } catch let error where !(error is AttemptFailure) && !(error is CancellationError) && !Task.isCancelled {
            throw self.failure(error)
        }
    }

    /// Records why reading the answer failed and classifies it.
    private func failure(_ error: any Error) -> AttemptFailure {
        let (clientError, kind) = AnthropicError.readingAnswer(failedWith: error, provider: self.provider)
        self.exchange.failAttemptUnlessFailed(kind)
        return AttemptFailure(clientError)
    }

    private static func collect(_ body: ByteStream, upTo limit: Int) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await var chunk in body where collected.readableBytes < limit {
            collected.writeBuffer(&chunk)
        }
        return collected
    }

    /// The status Anthropic answers with for an error of `type`, for one it reported inside a stream.
    private static func status(ofType type: String) -> Int {
        switch type {
        case "overloaded_error": 529
        case "rate_limit_error": 429
        case "timeout_error": 504
        case "authentication_error": 401
        case "permission_error": 403
        case "invalid_request_error": 400
        default: 500
        }
    }
}

extension AnthropicError {
    /// An Anthropic error answer (`{"type":"error","error":{"type","message"}}`) read back, so the router can
    /// classify it; what is not readable becomes the status's usual type.
    init(passthroughStatus status: Int, body: ByteBuffer, headers: [(name: String, value: String)]) {
        let json = try? body.withUnsafeReadableBytes { try JSONParser.parse($0) }
        let error = json?["error"]
        let retryAfter = headers.first { $0.name.lowercased() == "retry-after" }?.value
        self.init(
            status: status,
            type: error?["type"]?.stringValue ?? AnthropicError.type(forStatus: status),
            message: error?["message"]?.stringValue ?? String(buffer: body).prefix(500).description,
            headers: retryAfter.map { ["retry-after": $0] } ?? [:]
        )
    }
}

/// The events of a committed answer: those held back while waiting for its first content, then the rest
/// as they come.
struct HeldEvents: AsyncSequence, Sendable {
    typealias Element = AnthropicEvent

    let held: [AnthropicEvent]
    let source: Source

    /// The provider's iterator, read first by the hold and then by the one consumer of the answer.
    ///
    /// `@unchecked Sendable`: the iterator is used by one task at a time — the call stage's, until it hands
    /// the committed answer on, then the response writer's — and `makeAsyncIterator` is called once per
    /// answer, so no two tasks ever hold it at once.
    final class Source: @unchecked Sendable {
        private var iterator: any AsyncIteratorProtocol<AnthropicEvent, any Error>
        let ready: (any ReadyEvents)?
        let lease: DeploymentLease

        init(_ iterator: any AsyncIteratorProtocol<AnthropicEvent, any Error>, lease: DeploymentLease) {
            self.iterator = iterator
            self.ready = iterator as? any ReadyEvents
            self.lease = lease
        }

        func next() async throws -> AnthropicEvent? {
            try await self.iterator.next()
        }
    }

    final class AsyncIterator: AsyncIteratorProtocol, ReadyEvents {
        private var held: ArraySlice<AnthropicEvent>
        private let source: Source

        init(held: [AnthropicEvent], source: Source) {
            self.held = held[...]
            self.source = source
        }

        func next() async throws -> AnthropicEvent? {
            if let event = self.held.popFirst() { return event }
            return try await self.source.next()
        }

        func nextIfReady() -> AnthropicEvent? {
            self.held.popFirst() ?? self.source.ready?.nextIfReady()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(held: self.held, source: self.source)
    }
}

/// Anthropic's bytes after the hold: what was held, then the rest of the upstream's body.
struct HeldBytes: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let held: ByteBuffer
    let rest: Rest
    let lease: DeploymentLease

    init(held: ByteBuffer, rest: any AsyncIteratorProtocol<ByteBuffer, any Error>, lease: DeploymentLease) {
        self.held = held
        self.rest = Rest(rest)
        self.lease = lease
    }

    /// `@unchecked Sendable` for the reason ``HeldEvents/Source`` is: one reader at a time, handed on once.
    final class Rest: @unchecked Sendable {
        var iterator: any AsyncIteratorProtocol<ByteBuffer, any Error>
        init(_ iterator: any AsyncIteratorProtocol<ByteBuffer, any Error>) { self.iterator = iterator }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var held: ByteBuffer?
        let rest: Rest
        let lease: DeploymentLease

        mutating func next() async throws -> ByteBuffer? {
            if let held = self.held.take(), held.readableBytes > 0 { return held }
            return try await self.rest.iterator.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(held: self.held, rest: self.rest, lease: self.lease)
    }
}

/// A body passed on unheld, keeping its deployment counted as busy until it is read.
struct LeasedBytes: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: ByteStream
    let lease: DeploymentLease

    init(_ body: ByteStream, lease: DeploymentLease) {
        self.body = body
        self.lease = lease
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var body: any AsyncIteratorProtocol<ByteBuffer, any Error>
        let lease: DeploymentLease
        mutating func next() async throws -> ByteBuffer? { try await self.body.next() }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: self.body.makeAsyncIterator(), lease: self.lease)
    }
}

/// A request's claim on a deployment's capacity: counted in flight from the router's choice until the
/// answer is over (released explicitly, or when the last reader of the answer lets go), when the tokens
/// it used count against the deployment's `tpm`.
final class DeploymentLease: Sendable {
    private let router: ModelRouter
    private let deployment: ModelDeployment
    private let exchange: Exchange
    private let isReleased = Atomic(false)

    init(router: ModelRouter, deployment: ModelDeployment, exchange: Exchange) {
        self.router = router
        self.deployment = deployment
        self.exchange = exchange
    }

    func release() {
        guard !self.isReleased.exchange(true, ordering: .relaxed) else { return }
        let usage = self.exchange.record.usage
        let tokens = usage.inputTokens + usage.outputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens
        self.router.released(self.deployment, tokens: tokens)
    }

    deinit { self.release() }
}
