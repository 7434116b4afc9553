import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import SwitchboardTesting
import Testing

@testable import Switchboard

/// A client that hangs up is noticed at once, wherever the request stands: the upstream transfer goes,
/// the exchange ends as `client_disconnected`, and nothing stays in flight.
@Suite("client hang-ups")
struct ClientHangUpTests {
    /// Where the request stands when the client closes its socket.
    enum Moment: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// Non-streaming; the upstream has not answered at all yet.
        case beforeUpstreamHead
        /// Streaming; the gateway's response head went out, the upstream is silent.
        case whileSilent
        /// Streaming; some text went out, then the upstream went silent.
        case midStream
        /// Non-streaming; the upstream's head arrived, its body is still coming.
        case nonStreamingWait

        var testDescription: String { self.rawValue }
        var streams: Bool { self == .whileSilent || self == .midStream }
    }

    @Test("the upstream transfer is removed and the exchange finished as client_disconnected", arguments: Moment.allCases)
    func hangUp(at moment: Moment) async throws {
        let upstream = try await ScriptedHTTPServer.start { request, writer in
            try await Self.answerSlowly(at: moment, writer: writer)
        }
        let harness = try GatewayHarness(yaml: """
            model_list:
              - model_name: g
                litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(upstream.baseURL)/v1beta"}
            switchboard: {port: 0, ping_interval_seconds: 0.2}
            """)
        // A stream is held until its first content or its first heartbeat: with a short ping interval the
        // head of a silent stream goes out, and the client can hang up after it.
        try await harness.testLive { port in
            let body = #"{"model":"g","max_tokens":50,"stream":\#(moment.streams),"messages":[{"role":"user","content":"hi"}]}"#
            let request = "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let waitFor: String? = switch moment {
            case .beforeUpstreamHead, .nonStreamingWait: nil
            case .whileSilent: "HTTP/1.1 200"
            case .midStream: "text_delta"
            }
            try await RawClient.send(request, port: port, thenCloseAfterSeeing: waitFor, orAfter: .milliseconds(300))
            let closedAt = ContinuousClock.now

            let finished = try await Self.poll(until: .seconds(2)) { harness.recorder.all.first }
            let noticed = ContinuousClock.now - closedAt
            #expect(finished.clientDisconnected, "\(moment): the exchange must end as client_disconnected")
            #expect(noticed < .seconds(1), "\(moment): noticed after \(noticed)")
            #expect(finished.upstreamError == nil, "a client hang-up is not an upstream failure")
            // The exchange may finish a moment before curl's thread has removed the transfer.
            _ = try await Self.poll(until: .milliseconds(500)) { harness.gateway.upstream.activeTransfers == 0 ? true : nil }
            _ = try await Self.poll(until: .seconds(2)) { upstream.closedConnections == 1 ? true : nil }
            #expect(harness.metric("switchboard_in_flight_requests") == 0)
            #expect(harness.metric("switchboard_client_disconnects", ["/v1/messages"]) == 1)
        }
        await upstream.stop()
    }

    /// Which the gateway hears first when a client closes mid-body — the body stream failing, or the
    /// connection's close — is up to the event loop; either way it is the client's hang-up, not a 500.
    @Test("a request body that breaks off is the client's hang-up, whatever the connection has said yet")
    func bodyBreaksOff() async throws {
        struct ConnectionClosed: Error {}
        let body = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            continuation.yield(ByteBuffer(string: #"{"model":"#))
            continuation.finish(throwing: ConnectionClosed())
        }
        let request = Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/v1/messages"),
            body: RequestBody(asyncSequence: body)
        )
        let stage = DecodeStage(requestBodyLimit: 1 << 20, captureContent: false)
        let exchange = Exchange(record: ExchangeRecord(requestID: "t", method: "POST", route: "/v1/messages"))
        await #expect(throws: CancellationError.self) {
            _ = try await stage.decode(request, exchange: exchange, countingTokens: false)
        }
    }

    @Test("a client that hangs up before its request is read costs no upstream call and leaves nothing live")
    func hangUpWhileSending() async throws {
        let harness = try GatewayHarness(yaml: "model_list: [{model_name: m, litellm_params: {model: mock/echo}}]\nswitchboard: {port: 0}")
        try await harness.testLive { port in
            // The head promises 100 bytes; only 10 arrive before the client goes.
            let partial = "POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":"
            try await RawClient.send(partial, port: port, thenCloseAfterSeeing: nil, orAfter: .milliseconds(100))
            let finished = try await Self.poll(until: .seconds(2)) { harness.recorder.all.first }
            #expect(finished.clientDisconnected)
            #expect(finished.upstreamAttempts.isEmpty)
            #expect(harness.metric("switchboard_in_flight_requests") == 0)
        }
    }

    /// The upstream's side of each moment: it answers slowly enough that the client leaves first.
    static func answerSlowly(at moment: Moment, writer: ScriptedHTTPServer.ResponseWriter) async throws {
        let text = #"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"}]}}]}"#
        switch moment {
        case .beforeUpstreamHead:
            try await Task.sleep(for: .seconds(20))
        case .whileSilent:
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            try await Task.sleep(for: .seconds(20))
        case .midStream:
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            try await writer.writeBody("data: \(text)\r\n\r\n")
            try await Task.sleep(for: .seconds(20))
        case .nonStreamingWait:
            try await writer.writeHead(status: 200, headers: [("content-type", "application/json")])
            try await writer.writeBody(String(text.dropLast()))
            try await Task.sleep(for: .seconds(20))
        }
    }

    static func poll<Value>(until timeout: Duration, _ check: () -> Value?) async throws -> Value {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = check() { return value }
            try await Task.sleep(for: .milliseconds(5))
        }
        return try #require(check(), "not within \(timeout)")
    }
}

/// A bare TCP client: sends bytes, reads until it sees a marker (or a time passes), then closes.
enum RawClient {
    static func send(_ text: String, port: Int, thenCloseAfterSeeing marker: String?, orAfter wait: Duration) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: text))
            guard let marker else {
                try await Task.sleep(for: wait)
                return
            }
            var seen = ""
            for try await chunk in inbound {
                seen += String(buffer: chunk)
                if seen.contains(marker) { return }
            }
            Issue.record("the connection ended before \(marker) arrived: \(seen)")
        }
    }
}
