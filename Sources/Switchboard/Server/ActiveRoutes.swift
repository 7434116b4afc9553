import Synchronization
import Upstream

/// What a configuration reload replaces, swapped as one value: the route table, the providers, and the
/// messages pipeline, models list and readiness built on them. A request takes the snapshot current when
/// it arrives and finishes on it, so a reload never changes a request halfway; the ``ModelRouter`` is
/// kept across reloads, so deployments that stay keep their health and load.
final class ActiveRoutes: Sendable {
    struct Snapshot: Sendable {
        let pipeline: MessagesPipeline
        let models: ModelsEndpoint
        let readiness: Readiness
        let groups: [ModelGroup]
    }

    /// What every snapshot is built with.
    struct Context: Sendable {
        let upstream: UpstreamClient
        let modelRouter: ModelRouter
        /// Access tokens for Vertex AI deployments, kept across reloads like the router's state.
        let googleTokens: GoogleTokenStore
        let captureContent: Bool
    }

    private let context: Context
    private let current: Mutex<Snapshot>

    init(configuration: GatewayConfiguration, context: Context) {
        self.context = context
        self.current = Mutex(Self.snapshot(of: configuration, context: context))
    }

    var snapshot: Snapshot { self.current.withLock { $0 } }

    /// Makes `configuration`'s model list, router settings and aliases the ones new requests use.
    func replace(with configuration: GatewayConfiguration) {
        let snapshot = Self.snapshot(of: configuration, context: self.context)
        self.current.withLock { $0 = snapshot }
    }

    private static func snapshot(of configuration: GatewayConfiguration, context: Context) -> Snapshot {
        let routes = RouteTable(configuration: configuration)
        let pipeline = MessagesPipeline(
            decode: DecodeStage(
                requestBodyLimit: configuration.server.requestBodyLimit, captureContent: context.captureContent
            ),
            route: RouteStage(routes: routes),
            call: CallStage(
                providers: ProviderRegistry(configuration: configuration, googleTokens: context.googleTokens),
                client: context.upstream,
                router: context.modelRouter,
                routes: routes,
                settings: configuration.router
            ),
            encode: EncodeStage(captureContent: context.captureContent)
        )
        return Snapshot(
            pipeline: pipeline,
            models: ModelsEndpoint(routes: routes),
            readiness: Readiness(routes: routes, settings: configuration.router, router: context.modelRouter),
            groups: routes.groups
        )
    }
}
