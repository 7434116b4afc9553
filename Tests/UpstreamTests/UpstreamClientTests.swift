import NIOCore
import SwitchboardTesting
import Testing
import Upstream

@Suite("UpstreamClient against loopback servers")
struct UpstreamClientTests {
    @Test("a POST carries its headers and body, and the response head comes before the body")
    func postRoundTrip() async throws {
        let server = try await ScriptedHTTPServer.start { request, writer in
            let body = String(buffer: request.body)
            try await writer.respond(
                status: 201,
                headers: [("x-echo-method", request.method), ("x-echo-header", request.header("x-test") ?? "")],
                body: "got \(body)"
            )
        }
        let client = UpstreamClient()
        let response = try await client.execute(
            UpstreamRequest(
                method: "POST",
                url: "\(server.baseURL)/echo",
                headers: ["x-test": "yes", "content-type": "application/json"],
                body: ByteBuffer(string: #"{"hello":1}"#)
            )
        )
        #expect(response.status == 201)
        #expect(response.headers["X-Echo-Method"] == "POST")
        #expect(response.headers["x-echo-header"] == "yes")
        #expect(response.httpVersion == "1.1")
        #expect(String(buffer: try await response.collectBody(upTo: 1024)) == #"got {"hello":1}"#)
        await client.shutdown()
        await server.stop()
    }

    @Test("a body of several MiB read by a slow consumer arrives complete, pausing the transfer meanwhile")
    func slowConsumerGetsEveryByte() async throws {
        let chunk = ByteBuffer(bytes: (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let chunks = 96  // 6 MiB
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-length", "\(chunk.readableBytes * chunks)")])
            for _ in 0..<chunks { try await writer.writeBody(chunk) }
            try await writer.end()
        }
        let client = UpstreamClient()
        let response = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/big"))

        var received = 0
        var checksum: UInt64 = 0
        var reads = 0
        for try await buffer in response.body {
            buffer.withUnsafeReadableBytes { bytes in
                for (offset, byte) in bytes.enumerated() {
                    checksum &+= UInt64(byte) &* UInt64((received + offset) % 65_536 + 1)
                }
            }
            received += buffer.readableBytes
            reads += 1
            if reads % 16 == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }

        var expected: UInt64 = 0
        for index in 0..<(chunk.readableBytes * chunks) {
            let byte = UInt8(truncatingIfNeeded: (index % 65_536) &* 31 &+ 7)
            expected &+= UInt64(byte) &* UInt64(index % 65_536 + 1)
        }
        #expect(received == chunk.readableBytes * chunks)
        #expect(checksum == expected)
        #expect(client.backpressurePauses > 0, "the slow consumer should have paused the transfer")
        await client.shutdown()
        await server.stop()
    }

    @Test("while nobody reads, curl stops taking bytes from the socket")
    func stalledConsumerBoundsBufferedBytes() async throws {
        let chunk = ByteBuffer(repeating: 0x61, count: 65_536)
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200)
            for _ in 0..<256 { try await writer.writeBody(chunk) }  // 16 MiB if nobody stopped it
            try await writer.end()
        }
        let client = UpstreamClient()
        let response = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/flood"))
        try await Task.sleep(for: .milliseconds(300))
        // The body buffer holds at most its high watermark (8 chunks of ≤ 16 KiB); then curl pauses.
        #expect(client.backpressurePauses >= 1, "a stalled consumer must pause the transfer")
        let body = try await response.collectBody(upTo: 32 << 20)
        #expect(body.readableBytes == 256 * 65_536)
        await client.shutdown()
        await server.stop()
    }

    @Test("a paused transfer with a heartbeat leaves the loop asleep until its consumer reads")
    func pausedTransferDoesNotSpin() async throws {
        let chunk = ByteBuffer(repeating: 0x61, count: 65_536)
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200)
            for _ in 0..<64 { try await writer.writeBody(chunk) }  // more than the body buffers before pausing
            try await writer.end()
        }
        let client = UpstreamClient()
        let response = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/flood", heartbeat: .milliseconds(20)))
        try await Task.sleep(for: .milliseconds(100))
        #expect(client.backpressurePauses >= 1)
        // Nobody reads for 20 heartbeat intervals: no beat can go out and no timeout can fall due, so
        // the loop sleeps in its 1 s poll. (A deadline in the past made it spin: ~10⁵ turns here.)
        let turnsBefore = client.loopTurns
        try await Task.sleep(for: .milliseconds(400))
        #expect(client.loopTurns - turnsBefore <= 5)
        let body = try await response.collectBody(upTo: 8 << 20)
        #expect(body.readableBytes == 64 * 65_536)
        await client.shutdown()
        await server.stop()
    }

    @Test("cancelling the consuming task mid-stream removes the transfer and closes the connection")
    func cancellationMidStream() async throws {
        let serverSawClose = AsyncStream.makeStream(of: ContinuousClock.Instant.self)
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            do {
                while true {
                    try await writer.writeBody("data: tick\n\n")
                    try await Task.sleep(for: .milliseconds(5))
                }
            } catch {
                serverSawClose.continuation.yield(.now)
                throw error
            }
        }
        let client = UpstreamClient()
        let reader = Task {
            let response = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/endless"))
            var ticks = 0
            for try await _ in response.body { ticks += 1 }
            return ticks
        }
        while client.activeTransfers == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        let cancelledAt = ContinuousClock.now
        reader.cancel()
        _ = await reader.result

        var remaining = 200
        while client.activeTransfers > 0, remaining > 0 {
            try await Task.sleep(for: .milliseconds(5))
            remaining -= 1
        }
        #expect(client.activeTransfers == 0)
        var closes = serverSawClose.stream.makeAsyncIterator()
        let closedAt = await closes.next()
        let delay = try #require(closedAt) - cancelledAt
        #expect(delay < .seconds(2), "the upstream connection should close promptly, took \(delay)")
        await client.shutdown()
        await server.stop()
    }

    @Test("100 concurrent streams all complete")
    func hundredConcurrentStreams() async throws {
        let server = try await ScriptedHTTPServer.start { request, writer in
            try await writer.writeHead(status: 200)
            for index in 0..<20 {
                try await writer.writeBody("\(request.path) part \(index)\n")
                try await Task.sleep(for: .milliseconds(2))
            }
            try await writer.end()
        }
        let client = UpstreamClient()
        let bodies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for stream in 0..<100 {
                group.addTask {
                    let response = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/s\(stream)"))
                    return (stream, String(buffer: try await response.collectBody(upTo: 1 << 20)))
                }
            }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        #expect(bodies.count == 100)
        for (stream, body) in bodies {
            let expected = (0..<20).map { "/s\(stream) part \($0)\n" }.joined()
            #expect(body == expected)
        }
        #expect(client.activeTransfers == 0)
        await client.shutdown()
        await server.stop()
    }

    @Test("N sequential requests to one host share one connection")
    func connectionReuse() async throws {
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.respond(status: 200, body: "ok")
        }
        let client = UpstreamClient()
        for _ in 0..<20 {
            let response = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/again"))
            #expect(String(buffer: try await response.collectBody(upTo: 16)) == "ok")
        }
        #expect(server.acceptedConnections == 1)
        await client.shutdown()
        await server.stop()
    }

    @Test("a body read to its end wakes the loop thread once per request: to start it")
    func noWakeupsBeyondTheStart() async throws {
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            for index in 0..<3 {
                try await Task.sleep(for: .milliseconds(2))  // the consumer waits before each part
                try await writer.writeBody("data: \(index)\n\n")
            }
            try await writer.end()
        }
        let client = UpstreamClient()
        for _ in 0..<10 {
            let response = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/events"))
            #expect(String(buffer: try await response.collectBody(upTo: 1024)) == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
        }
        // Demand that never stopped the transfer, and an iterator dropped after the end, need no wake-up.
        #expect(client.loopWakeups == 10)
        await client.shutdown()
        await server.stop()
    }

    @Test("with a heartbeat, a silent upstream yields an empty chunk each interval; a talking one, none")
    func heartbeatInSilenceOnly() async throws {
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-type", "text/event-stream")])
            try await Task.sleep(for: .milliseconds(700))
            for index in 0..<5 {
                try await writer.writeBody("data: \(index)\n\n")
                try await Task.sleep(for: .milliseconds(1))  // far inside the interval, even on a loaded machine
            }
            try await writer.end()
        }
        let client = UpstreamClient()
        let interval = Duration.milliseconds(200)
        let response = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/think", heartbeat: interval))
        let headAt = ContinuousClock.now
        var chunks: [ByteBuffer] = []
        var silence = Duration.zero
        for try await chunk in response.body {
            if chunk.readableBytes > 0, silence == .zero { silence = .now - headAt }
            chunks.append(chunk)
        }
        // One beat per whole interval of the silence as this side saw it (a late beat may still be due).
        let beats = try #require(chunks.firstIndex { $0.readableBytes > 0 })
        let due = Int(silence / interval)
        #expect(beats >= 2 && (due - 1...due).contains(beats), "\(beats) beats in \(silence) of silence at \(interval)")
        #expect(chunks[beats...].allSatisfy { $0.readableBytes > 0 }, "no beat while bytes flow")
        #expect(String(buffer: chunks.reduce(into: ByteBuffer()) { $0.writeImmutableBuffer($1) }) == (0..<5).map { "data: \($0)\n\n" }.joined())
        await client.shutdown()
        await server.stop()
    }

    @Test("a server that resets the connection mid-body yields a connectionReset error")
    func resetMidBody() async throws {
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.writeHead(status: 200, headers: [("content-length", "100000")])
            try await writer.writeBody(String(repeating: "x", count: 1000))
            try await Task.sleep(for: .milliseconds(50))
            await writer.resetConnection()
        }
        let client = UpstreamClient()
        let response = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/reset"))
        let error = await #expect(throws: UpstreamError.self) {
            _ = try await response.collectBody(upTo: 1 << 20)
        }
        #expect(error?.kind == .connectionReset)
        #expect(error?.message.isEmpty == false)
        await client.shutdown()
        await server.stop()
    }

    @Test("a server that never answers times out after the idle timeout")
    func silentServerTimesOut() async throws {
        let server = try await ScriptedHTTPServer.start { _, _ in
            try await Task.sleep(for: .seconds(60))
        }
        let client = UpstreamClient(configuration: .init(idleTimeout: .milliseconds(300)))
        let started = ContinuousClock.now
        let error = await #expect(throws: UpstreamError.self) {
            _ = try await client.execute(UpstreamRequest(url: "\(server.baseURL)/silence"))
        }
        #expect(error?.kind == .timeout)
        #expect(ContinuousClock.now - started < .seconds(5))
        await client.shutdown()
        await server.stop()
    }

    @Test("nothing listening gives connectionRefused with curl's message")
    func connectionRefused() async throws {
        let refusing = try RefusingPort()
        defer { refusing.stop() }
        let port = refusing.port
        let client = UpstreamClient()
        let error = await #expect(throws: UpstreamError.self) {
            _ = try await client.execute(UpstreamRequest(url: "http://127.0.0.1:\(port)/"))
        }
        #expect(error?.kind == .connectionRefused)
        #expect(error?.message.contains("127.0.0.1") == true)
        await client.shutdown()
    }

    @Test("requests go through the proxy the environment names, unless NO_PROXY matches")
    func proxyFromEnvironment() async throws {
        let proxy = try await ScriptedHTTPServer.start { request, writer in
            try await writer.respond(status: 200, body: "via proxy: \(request.uri)")
        }
        let direct = try await ScriptedHTTPServer.start { _, writer in
            try await writer.respond(status: 200, body: "direct")
        }
        let settings = ProxySettings(environment: ["http_proxy": proxy.baseURL, "NO_PROXY": "127.0.0.1"])
        let client = UpstreamClient(configuration: .init(proxy: settings))

        let proxied = try await client.execute(UpstreamRequest(url: "http://upstream.example.invalid/v1/x"))
        #expect(String(buffer: try await proxied.collectBody(upTo: 256)) == "via proxy: http://upstream.example.invalid/v1/x")
        let bypassed = try await client.execute(UpstreamRequest(url: "\(direct.baseURL)/y"))
        #expect(String(buffer: try await bypassed.collectBody(upTo: 256)) == "direct")
        await client.shutdown()
        await proxy.stop()
        await direct.stop()
    }

    @Test("upper-case HTTP_PROXY is ignored, as curl does")
    func upperCaseHTTPProxyIgnored() {
        let settings = ProxySettings(environment: ["HTTP_PROXY": "http://evil:1", "HTTPS_PROXY": "http://corp:3128"])
        #expect(settings.httpProxy == nil)
        #expect(settings.httpsProxy == "http://corp:3128")
    }

    @Test("after shutdown, requests fail with shutDown")
    func requestAfterShutdown() async throws {
        let client = UpstreamClient()
        await client.shutdown()
        let error = await #expect(throws: UpstreamError.self) {
            _ = try await client.execute(UpstreamRequest(url: "http://127.0.0.1:9/"))
        }
        #expect(error?.kind == .shutDown)
    }
}
