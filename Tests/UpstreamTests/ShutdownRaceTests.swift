import Testing

@testable import Upstream

/// Shutdown racing the callers: starts, cancels and a second shutdown arriving while the loop stops.
/// Each wakes the loop's multi handle, which must still exist whenever they do.
@Suite("Shutting down while callers submit")
struct ShutdownRaceTests {
    @Test("starts, cancels and shutdowns racing each other all end, and free every transfer", .timeLimit(.minutes(1)))
    func submitsRacingShutdown() async throws {
        let silent = try SilentListener()
        defer { silent.stop() }
        let refusing = try RefusingPort()
        defer { refusing.stop() }
        let refused = "\(refusing.baseURL)/"
        let expected: Set<UpstreamError.Kind> = [.connectionRefused, .cancelled, .shutDown]
        var watched: [WeakTransfer] = []
        for round in 0..<100 {
            let client = UpstreamClient(configuration: .init(proxy: .none))
            let tasks = (0..<16).map { index in
                let url = index.isMultiple(of: 2) ? refused : "\(silent.baseURL)/r\(round)"
                let (transfer, task) = TransferLifetimeTests.start(TransferLifetimeTests.request(to: url), on: client)
                watched.append(transfer)
                return task
            }
            // Two shutdowns at once, with cancels (each a command to the loop) in between and after.
            async let first: Void = client.shutdown()
            for task in tasks[..<8] { task.cancel() }
            async let second: Void = client.shutdown()
            for task in tasks[8...] { task.cancel() }
            _ = await (first, second)
            for task in tasks {
                let kind = await task.result.failureKind
                #expect(kind.map(expected.contains) == true, "round \(round): \(String(describing: kind))")
            }
            // After the loop stopped, a start fails at once.
            let late = await task(client, TransferLifetimeTests.request(to: refused)).result.failureKind
            #expect(late == .shutDown)
            #expect(client.activeTransfers == 0)
        }
        #expect(await watched.last!.isFreed())
        let alive = watched.count { $0.transfer != nil }
        #expect(alive == 0, "\(alive) of \(watched.count) transfers are still alive")
    }

    private func task(_ client: UpstreamClient, _ request: UpstreamRequest) -> Task<UpstreamResponse, any Error> {
        Task { try await client.execute(request) }
    }
}
