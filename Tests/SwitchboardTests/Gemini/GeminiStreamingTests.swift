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
            upstream: upstream,
            signatures: ThoughtSignatures(),
            dropParams: false,
            pingInterval: .seconds(30)
        )
        let request = try anthropicRequest(#"{"model":"g","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        let call = ProviderCall(
            request: request,
            body: ByteBuffer(),
            route: Route(requestedModel: "g", deployment: deployment, upstreamModel: "gemini-2.5-flash"),
            exchange: Exchange(record: ExchangeRecord(requestID: "t", method: "POST", route: "/v1/messages"))
        )
        guard case .events(let events) = try await provider.sendMessage(call) else {
            Issue.record("events expected")
            return
        }
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
}
