import Foundation
import SwitchboardTesting
import Synchronization
import Upstream

@testable import Switchboard

/// A fake Google authority on loopback, an upstream client, a token store that records its refreshes, and a
/// scratch folder for credential files; all torn down after `body`.
struct GoogleAuthHarness: Sendable {
    let fake: FakeGoogleAuthServer
    let store: GoogleTokenStore
    let log: RefreshLog
    let directory: String

    var authority: FakeGoogleAuthority { self.fake.authority }

    static func run<T: Sendable>(
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        _ body: (GoogleAuthHarness) async throws -> T
    ) async throws -> T {
        let fake = try await FakeGoogleAuthServer.start()
        let upstream = UpstreamClient(configuration: .init(proxy: .none))
        let directory = NSTemporaryDirectory() + "google-auth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let box = RefreshLog()
        let harness = GoogleAuthHarness(
            fake: fake,
            store: GoogleTokenStore(
                upstream: upstream,
                clock: clock,
                observer: { box.append($0) },
                authorizedUserTokenURL: fake.authority.tokenURL
            ),
            log: box,
            directory: directory
        )
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let result = try await body(harness)
            await upstream.shutdown()
            await fake.stop()
            return result
        } catch {
            await upstream.shutdown()
            await fake.stop()
            throw error
        }
    }

    /// Writes `json` to a file in the scratch folder and returns its path.
    func write(_ json: String, named name: String) throws -> String {
        let path = self.directory + "/" + name
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The credentials in `json`, as `GOOGLE_APPLICATION_CREDENTIALS` would name them.
    func credentials(_ json: String, named name: String = "key.json") throws -> GoogleCredentials {
        let path = try self.write(json, named: name)
        return try GoogleCredentials.resolve(
            vertexCredentials: nil,
            environment: ["GOOGLE_APPLICATION_CREDENTIALS": path]
        )
    }

    var recorded: [CredentialRefresh] { self.log.log.withLock { $0 } }
}

/// The observer's log; a class so that the store's closure and the harness share it.
final class RefreshLog: Sendable {
    let log = Mutex<[CredentialRefresh]>([])
    func append(_ refresh: CredentialRefresh) { self.log.withLock { $0.append(refresh) } }
}
