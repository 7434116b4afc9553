import NIOCore
import SwitchboardTesting
import Testing

@testable import Upstream

/// A transfer, held weakly: nil once it is freed.
struct WeakTransfer: @unchecked Sendable {  // `@unchecked`: loading a weak reference is thread-safe
    weak var transfer: CurlTransfer?

    init(_ transfer: CurlTransfer) {
        self.transfer = transfer
    }

    /// Whether the transfer is freed within `limit`; the loop thread may hold it a moment longer
    /// than it takes the caller to hear the outcome.
    func isFreed(within limit: Duration = .seconds(2)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while self.transfer != nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return self.transfer == nil
    }
}

/// Each way a transfer can end before its response head, and after it, must free the transfer with
/// what it holds: the request's body and headers (an API key among them) and the response body's
/// producer, whose delegate points back at the transfer.
@Suite("Transfers are freed however they end")
struct TransferLifetimeTests {
    /// Shaped like a provider call or an OTLP export: a POST with a key and a body.
    static func request(to url: String, idleTimeout: Duration? = nil) -> UpstreamRequest {
        UpstreamRequest(
            method: "POST",
            url: url,
            headers: ["x-api-key": "sk-secret", "content-type": "application/json"],
            body: ByteBuffer(string: #"{"hello":1}"#),
            connectTimeout: .seconds(5),
            idleTimeout: idleTimeout
        )
    }

    /// Starts `request` in a task of its own, which may cancel itself first (so the cancel overtakes
    /// the add); only the returned task and weak reference keep track of it.
    static func start(
        _ request: UpstreamRequest,
        on client: UpstreamClient,
        cancelledFirst: Bool = false
    ) -> (WeakTransfer, Task<UpstreamResponse, any Error>) {
        let transfer = client.makeTransfer(for: request)
        let task = Task {
            if cancelledFirst { withUnsafeCurrentTask { $0?.cancel() } }
            return try await client.execute(transfer)
        }
        return (WeakTransfer(transfer), task)
    }

    /// Runs `request`, which must fail with `kind` before its head, and returns its transfer, held weakly.
    static func fail(
        _ request: UpstreamRequest,
        on client: UpstreamClient,
        with kind: UpstreamError.Kind
    ) async -> WeakTransfer {
        let (watched, task) = Self.start(request, on: client)
        let result = await task.result
        #expect(throws: UpstreamError.self) { try result.get() }
        #expect(result.failureKind == kind)
        return watched
    }

    /// Runs `request` to its head, then reads the body or drops it unread; returns its transfer, held weakly.
    static func succeed(
        _ request: UpstreamRequest,
        on client: UpstreamClient,
        readingBody: Bool
    ) async throws -> WeakTransfer {
        let transfer = client.makeTransfer(for: request)
        let watched = WeakTransfer(transfer)
        let response = try await client.execute(transfer)
        #expect(response.status == 200)
        if readingBody {
            #expect(String(buffer: try await response.collectBody(upTo: 16)) == "ok")
        }
        return watched
    }

    @Test("connection refused")
    func refused() async throws {
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let refusing = try RefusingPort()
        defer { refusing.stop() }
        let request = Self.request(to: "\(refusing.baseURL)/")
        let watched = await Self.fail(request, on: client, with: .connectionRefused)
        #expect(await watched.isFreed())
        await client.shutdown()
    }

    @Test("a name that does not resolve")
    func unresolvable() async throws {
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let watched = await Self.fail(Self.request(to: "http://upstream.invalid/"), on: client, with: .dnsFailure)
        #expect(await watched.isFreed())
        await client.shutdown()
    }

    @Test("no response head within the idle timeout")
    func timeoutBeforeHead() async throws {
        let listener = try SilentListener()
        defer { listener.stop() }
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let request = Self.request(to: "\(listener.baseURL)/silence", idleTimeout: .milliseconds(200))
        let watched = await Self.fail(request, on: client, with: .timeout)
        #expect(await watched.isFreed())
        await client.shutdown()
    }

    @Test("cancelled while waiting for the head")
    func cancelledBeforeHead() async throws {
        let listener = try SilentListener()
        defer { listener.stop() }
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let (watched, task) = Self.start(Self.request(to: "\(listener.baseURL)/silence"), on: client)
        while client.activeTransfers == 0 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        let result = await task.result
        #expect(result.failureKind == .cancelled)
        #expect(await watched.isFreed())
        #expect(client.activeTransfers == 0)
        await client.shutdown()
    }

    @Test("cancelled before the loop started it: the cancel overtakes the add")
    func cancelledBeforeStart() async throws {
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let (watched, task) = Self.start(Self.request(to: "http://127.0.0.1:9/"), on: client, cancelledFirst: true)
        let result = await task.result
        #expect(result.failureKind == .cancelled)
        #expect(await watched.isFreed())
        await client.shutdown()
    }

    @Test("shut down while waiting for the head")
    func shutDownBeforeHead() async throws {
        let listener = try SilentListener()
        defer { listener.stop() }
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let (watched, task) = Self.start(Self.request(to: "\(listener.baseURL)/silence"), on: client)
        while client.activeTransfers == 0 { try await Task.sleep(for: .milliseconds(5)) }
        await client.shutdown()
        let result = await task.result
        #expect(result.failureKind == .shutDown)
        #expect(await watched.isFreed())
    }

    @Test("a body read to its end, and a body dropped unread")
    func afterTheHead() async throws {
        let server = try await ScriptedHTTPServer.start { _, writer in
            try await writer.respond(status: 200, body: "ok")
        }
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let read = try await Self.succeed(Self.request(to: "\(server.baseURL)/read"), on: client, readingBody: true)
        #expect(await read.isFreed())
        let dropped = try await Self.succeed(Self.request(to: "\(server.baseURL)/drop"), on: client, readingBody: false)
        #expect(await dropped.isFreed())
        await client.shutdown()
        await server.stop()
    }

    @Test("5,000 refused connections leave no transfer behind")
    func refusedSoak() async throws {
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let refusing = try RefusingPort()
        defer { refusing.stop() }
        let url = "\(refusing.baseURL)/"
        let workers = 50
        let watched = await withTaskGroup(of: [WeakTransfer].self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var watched: [WeakTransfer] = []
                    for _ in 0..<(5_000 / workers) {
                        watched.append(await Self.fail(Self.request(to: url), on: client, with: .connectionRefused))
                    }
                    return watched
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(watched.count == 5_000)
        #expect(await watched.last!.isFreed())
        let alive = watched.count { $0.transfer != nil }
        #expect(alive == 0, "\(alive) of 5,000 refused transfers are still alive")
        #expect(client.activeTransfers == 0)
        await client.shutdown()
    }
}

extension Result where Failure == any Error {
    /// The failure's kind; nil on success or on an error that is not an ``UpstreamError``.
    var failureKind: UpstreamError.Kind? {
        if case .failure(let error) = self { (error as? UpstreamError)?.kind } else { nil }
    }
}
