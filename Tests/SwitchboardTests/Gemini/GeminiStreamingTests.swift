import Foundation
import NIOCore
import SwitchboardTesting
import Testing
import Upstream

@testable import Switchboard

@Suite("Gemini chunks are forwarded as they arrive")
struct GeminiStreamingTests {
    @Test("the first text delta reaches the client while Gemini still holds the rest")
    func noBuffering() async throws {
        let (clientSawText, signal) = AsyncStream.makeStream(of: Void.self)
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            try await writer.writeBody(#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"first"}]}}]}"# + "\r\n\r\n")
            // Gemini holds the rest until the client has shown it got the first part.
            var waiting = clientSawText.makeAsyncIterator()
            _ = await waiting.next()
            try await writer.writeBody(#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":" second"}]},"finishReason":"STOP"}]}"# + "\r\n\r\n")
            try await writer.end()
        }
        let upstream = UpstreamClient(configuration: .init(idleTimeout: .seconds(5), proxy: .none))
        let events = try await Self.stream(from: server, through: upstream, pingInterval: .seconds(30))
        var texts: [String] = []
        for try await event in events {
            if case .contentBlockDelta(_, .text(let text)) = event {
                texts.append(text)
                signal.yield()
            }
        }
        #expect(texts == ["first", " second"])
        await upstream.shutdown()
        await server.stop()
    }

    @Test("while Gemini is silent a ping goes out every interval; a talking Gemini gets none")
    func pingsOnlyInSilence() async throws {
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            try await Task.sleep(for: .milliseconds(700))  // thinking
            for part in ["a", "b", "c", "d"] {
                try await writer.writeBody(#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"\#(part)"}]}}]}"# + "\r\n\r\n")
                try await Task.sleep(for: .milliseconds(1))  // far inside the interval, even on a loaded machine
            }
            try await writer.writeBody(#"data: {"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"STOP"}]}"# + "\r\n\r\n")
            try await writer.end()
        }
        let upstream = UpstreamClient(configuration: .init(idleTimeout: .seconds(5), proxy: .none))
        let interval = Duration.milliseconds(200)
        let events = try await Self.stream(from: server, through: upstream, pingInterval: interval)
        let headAt = ContinuousClock.now
        var names: [String] = []
        var silence = Duration.zero
        for try await event in events {
            if event.name != "ping", silence == .zero { silence = .now - headAt }
            names.append(event.name)
        }
        // One ping per whole interval of the silence as this side saw it (a late one may still be due).
        let pings = try #require(names.firstIndex { $0 != "ping" })
        let due = Int(silence / interval)
        #expect(pings >= 2 && (due - 1...due).contains(pings), "\(pings) pings in \(silence) of silence at \(interval): \(names)")
        #expect(!names[pings...].contains("ping"), "no ping while Gemini talks: \(names)")
        #expect(names.last == "message_stop")
        await upstream.shutdown()
        await server.stop()
    }

    @Test("the events of one upstream chunk leave in one SSE chunk, in order; usage is read off each")
    func oneChunkOneWrite() async throws {
        let parts = (0..<20).map { #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"\#($0) "}]}}]}"# + "\r\n\r\n" }
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            try await writer.writeBody(parts.joined())  // twenty Gemini chunks in one write
            try await Task.sleep(for: .milliseconds(50))
            try await writer.writeBody(#"data: {"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":20}}"# + "\r\n\r\n")
            try await writer.end()
        }
        let upstream = UpstreamClient(configuration: .init(idleTimeout: .seconds(5), proxy: .none))
        let exchange = Exchange(record: ExchangeRecord(requestID: "t", method: "POST", route: "/v1/messages"))
        let events = try await Self.stream(from: server, through: upstream, pingInterval: .seconds(30), exchange: exchange)
        let body = ServerSentEventBody(events: events, accounting: ExchangeAccounting(exchange: exchange, provider: "gemini"))
        var chunks: [String] = []
        for try await chunk in body { chunks.append(String(buffer: chunk)) }
        let deltas = chunks[0].components(separatedBy: "event: content_block_delta\n").dropFirst()
        #expect(deltas.count == 20, "the first write carries every delta of the first upstream chunk")
        #expect(deltas.first?.contains(#""text":"0 ""#) == true && deltas.last?.contains(#""text":"19 ""#) == true)
        #expect(chunks.count <= 3, "one write per upstream chunk, and the closing events: \(chunks.count)")
        #expect(chunks.joined().components(separatedBy: "event: content_block_delta\n").count - 1 == 20)
        #expect(exchange.record.timings[.firstToken] != nil)
        #expect(exchange.record.usage.outputTokens == 20)
        await upstream.shutdown()
        await server.stop()
    }

    @Test("a chunk that fails halfway: the events before the failure go out, and the error is last")
    func errorIsTheLastEvent() async throws {
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            try await writer.writeBody(
                #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"before"}]}}]}"# + "\r\n\r\n"
                    + "data: {not json\r\n\r\n"
            )
            try await writer.end()
        }
        let upstream = UpstreamClient(configuration: .init(idleTimeout: .seconds(5), proxy: .none))
        let exchange = Exchange(record: ExchangeRecord(requestID: "t", method: "POST", route: "/v1/messages"))
        let events = try await Self.stream(from: server, through: upstream, pingInterval: .seconds(30), exchange: exchange)
        let body = ServerSentEventBody(events: events, accounting: ExchangeAccounting(exchange: exchange, provider: "gemini"))
        var text = ""
        for try await chunk in body { text += String(buffer: chunk) }
        let names = text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { $0.dropFirst(7) }
        #expect(names.contains("content_block_delta"), "the text before the failure was sent")
        #expect(names.last == "error", "\(names)")
        #expect(names.filter { $0 == "error" }.count == 1)
        await upstream.shutdown()
        await server.stop()
    }

    /// Asks a Gemini provider pointed at `server` for a streamed answer; its events.
    static func stream(
        from server: ScriptedHTTPServer,
        through upstream: UpstreamClient,
        pingInterval: Duration,
        exchange: Exchange = Exchange(record: ExchangeRecord(requestID: "t", method: "POST", route: "/v1/messages"))
    ) async throws -> AnthropicEventStream {
        let deployment = ModelDeployment(
            modelName: "g",
            provider: .gemini,
            upstreamModel: "gemini-2.5-flash",
            apiKey: "k",
            apiBase: "\(server.baseURL)/v1beta",
            origin: "model_list[0]"
        )
        let provider = GeminiProvider(
            deployment: deployment,
            transport: AIStudioTransport(deployment: deployment),
            signatures: ThoughtSignatures(),
            dropParams: false,
            pingInterval: pingInterval
        )
        let request = try anthropicRequest(#"{"model":"g","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        let call = ProviderCall(
            request: request,
            body: ByteBuffer(),
            route: Route(requestedModel: "g", deployment: deployment, upstreamModel: "gemini-2.5-flash"),
            upstream: UpstreamCall(
                client: upstream,
                exchange: exchange,
                target: AttemptTarget(modelGroup: "g", deployment: "g#1", provider: .gemini, upstreamModel: "gemini-2.5-flash"),
                deadline: nil
            )
        )
        guard case .events(let events) = try await provider.sendMessage(call) else {
            throw AnthropicError.api("events expected")
        }
        return events
    }
}
