import Synchronization
import Testing

@testable import Switchboard

@Suite("Pings while the upstream is silent")
struct KeepAliveEventsTests {
    /// Yields `count` text deltas, `gap` apart.
    struct SlowEvents: AsyncSequence, Sendable {
        let count: Int
        let gap: Duration
        var cancellations: Counter? = nil

        struct AsyncIterator: AsyncIteratorProtocol {
            var remaining: Int
            let gap: Duration
            /// Counts, when it goes away, that the reader let go of this upstream.
            let release: Release?
            mutating func next() async throws -> AnthropicEvent? {
                guard self.remaining > 0 else { return nil }
                try await Task.sleep(for: self.gap)
                self.remaining -= 1
                return .contentBlockDelta(index: 0, delta: .text("\(self.remaining)"))
            }
        }

        func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(remaining: self.count, gap: self.gap, release: self.cancellations.map(Release.init))
        }
    }

    final class Counter: Sendable {
        let count = Atomic(0)
    }

    final class Release: Sendable {
        let cancellations: Counter
        init(_ cancellations: Counter) { self.cancellations = cancellations }
        deinit { self.cancellations.count.add(1, ordering: .relaxed) }
    }

    @Test("a ping comes every interval of silence, and every event still arrives in order")
    func pingsDuringSilence() async throws {
        let events = KeepAliveEvents(base: SlowEvents(count: 3, gap: .milliseconds(350)), interval: .milliseconds(100))
        var texts: [String] = []
        var pings = 0
        for try await event in events {
            switch event {
            case .ping: pings += 1
            case .contentBlockDelta(_, .text(let text)): texts.append(text)
            default: Issue.record("unexpected \(event.name)")
            }
        }
        #expect(texts == ["2", "1", "0"])
        #expect(pings >= 6, "about three pings per 350 ms gap, got \(pings)")
    }

    @Test("a fast upstream gets no pings")
    func noPingsWhenBusy() async throws {
        let events = KeepAliveEvents(base: SlowEvents(count: 50, gap: .zero), interval: .seconds(1))
        var count = 0
        for try await event in events {
            if case .ping = event { Issue.record("no ping expected") }
            count += 1
        }
        #expect(count == 50)
    }

    @Test("streams that end while their reader is being cancelled never resume a continuation twice")
    func endRacesCancellation() async throws {
        // The bench found this: the consumer takes `.end` as the finished iterator cancels the reader.
        for _ in 0..<2000 {
            var count = 0
            for try await _ in KeepAliveEvents(base: SlowEvents(count: 2, gap: .zero), interval: .seconds(1)) { count += 1 }
            #expect(count == 2)
        }
    }

    @Test("a consumer that falls behind holds the reader back: it runs at most a queue's length ahead")
    func backpressure() async throws {
        /// Counts how many events the reader pulled.
        struct Counted: AsyncSequence, Sendable {
            let pulled: Counter
            struct AsyncIterator: AsyncIteratorProtocol {
                let pulled: Counter
                mutating func next() async throws -> AnthropicEvent? {
                    self.pulled.count.add(1, ordering: .relaxed)
                    return .contentBlockDelta(index: 0, delta: .text("x"))
                }
            }
            func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pulled: self.pulled) }
        }
        let pulled = Counter()
        let iterator = KeepAliveEvents(base: Counted(pulled: pulled), interval: .seconds(5)).makeAsyncIterator()
        _ = try await iterator.next()
        try await Task.sleep(for: .milliseconds(200))
        // One taken, eight queued, one waiting for room (and the reader's pull of it).
        #expect(pulled.count.load(ordering: .relaxed) <= 11)
        #expect(pulled.count.load(ordering: .relaxed) >= 9)
        for _ in 0..<100 { _ = try await iterator.next() }
        #expect(pulled.count.load(ordering: .relaxed) >= 101)
    }

    @Test("events already queued leave in one SSE chunk, in order, each once; usage is still read off each")
    func coalescedChunks() async throws {
        let exchange = Exchange(record: ExchangeRecord(requestID: "t", method: "POST", route: "/v1/messages"))
        /// 200 text deltas, each at hand at once.
        struct Burst: AsyncSequence, Sendable {
            struct AsyncIterator: AsyncIteratorProtocol {
                var remaining = 200
                mutating func next() async throws -> AnthropicEvent? {
                    guard self.remaining > 0 else { return nil }
                    self.remaining -= 1
                    return .contentBlockDelta(index: 0, delta: .text("\(self.remaining)"))
                }
            }
            func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
        }
        let events = KeepAliveEvents(base: Burst(), interval: .seconds(5))
        let body = ServerSentEventBody(events: events, accounting: EventAccounting(exchange: exchange), provider: "test")
        var iterator = body.makeAsyncIterator()
        try await Task.sleep(for: .milliseconds(50))  // the reader fills the queue meanwhile
        var chunks = 0
        var text = ""
        while let chunk = try await iterator.next() {
            chunks += 1
            text += String(buffer: chunk)
        }
        let deltas = text.components(separatedBy: "event: content_block_delta\ndata: ").dropFirst()
        #expect(deltas.count == 200)
        #expect(deltas.first?.contains(#""text":"199""#) == true && deltas.last?.contains(#""text":"0""#) == true)
        #expect(chunks < 200, "a fast upstream's events share chunks")
        #expect(exchange.record.timings[.firstToken] != nil)
    }

    @Test("an upstream failure reaches the consumer")
    func failurePropagates() async throws {
        struct Broken: AsyncSequence, Sendable {
            struct AsyncIterator: AsyncIteratorProtocol {
                mutating func next() async throws -> AnthropicEvent? { throw AnthropicError.api("boom") }
            }
            func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
        }
        await #expect(throws: AnthropicError.self) {
            for try await _ in KeepAliveEvents(base: Broken(), interval: .seconds(1)) {}
        }
    }

    @Test("a consumer that stops early makes the reader stop and let go of the upstream (client gone → upstream cancelled)")
    func earlyStop() async throws {
        let cancellations = Counter()
        for _ in 0..<20 {
            let base = SlowEvents(count: 1000, gap: .milliseconds(20), cancellations: cancellations)
            let iterator = KeepAliveEvents(base: base, interval: .seconds(1)).makeAsyncIterator()
            _ = try await iterator.next()
        }
        var waited = 0
        while cancellations.count.load(ordering: .relaxed) < 20, waited < 100 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(cancellations.count.load(ordering: .relaxed) == 20)
    }
}
