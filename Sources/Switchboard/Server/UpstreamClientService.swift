import ServiceLifecycle
import Upstream

/// Keeps the upstream client alive for the life of the service group and shuts it down last, after
/// the server has drained its in-flight streams.
struct UpstreamClientService: Service {
    let client: UpstreamClient

    func run() async throws {
        try? await gracefulShutdown()
        await self.client.shutdown()
    }
}
