import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Telemetry
import Upstream

/// Builds the Hummingbird application: middleware, routes, and the services that live beside it.
public struct Gateway: Sendable {
    public let configuration: GatewayConfiguration
    public let upstream: UpstreamClient
    public let observers: [any ExchangeObserver]
    public let logger: Logger
    public let metricsRegistry: MetricsRegistry
    public let prices: PriceTable
    /// Whether message content goes on spans.
    public let captureContent: Bool
    /// Deployment health, load and session affinity, shared by every request.
    public let modelRouter: ModelRouter
    private let live = LiveExchanges()
    /// Each open client connection, so that a request can tell when its client hangs up.
    private let connections = ClientConnections()
    /// The routes and pipeline requests use now; ``reload(_:)`` swaps them.
    private let active: ActiveRoutes
    private let metrics: GatewayMetrics
    private let credentialMetrics: CredentialMetrics
    /// The virtual keys, when the configuration names a database (`general_settings.database_url`).
    public let keys: KeyDirectory?

    /// A gateway whose finished exchanges go to `observers`, to the metrics in `metricsRegistry`, and
    /// priced from `prices` (with the configuration's per-deployment overrides). `authorized_user` Google
    /// credentials refresh at `googleTokenEndpoint` (Google's, as google-auth does whatever the file says;
    /// tests pass a fake's).
    public init(
        configuration: GatewayConfiguration,
        upstream: UpstreamClient,
        observers: [any ExchangeObserver],
        logger: Logger,
        metricsRegistry: MetricsRegistry = MetricsRegistry(),
        prices: PriceTable = PriceTable(),
        spans: (@Sendable (SpanData) -> Void)? = nil,
        captureContent: Bool = false,
        googleTokenEndpoint: String = GoogleCredentials.defaultTokenURI,
        keys: KeyDirectory? = nil
    ) {
        self.configuration = configuration
        self.keys = keys
        self.upstream = upstream
        self.logger = logger
        self.metricsRegistry = metricsRegistry
        self.prices = prices.applying(overridesFrom: configuration)
        self.captureContent = captureContent
        let metrics = GatewayMetrics(registry: metricsRegistry, live: self.live, version: SwitchboardVersion.current)
        metrics.prepare(for: configuration)
        self.metrics = metrics
        let modelRouter = ModelRouter(onCooldown: { group, deployment, _ in
            metrics.cooldownStarted(group: group, deployment: deployment)
        })
        self.modelRouter = modelRouter
        let credentialMetrics = CredentialMetrics(registry: metricsRegistry)
        credentialMetrics.prepare(for: configuration)
        self.credentialMetrics = credentialMetrics
        let googleTokens = GoogleTokenStore(
            upstream: upstream,
            observer: { refresh in
                credentialMetrics.record(refresh)
                // A refresh made for a request belongs to its trace, kept or dropped with it.
                if let spans, refresh.parent?.isSampled ?? true { spans(CredentialMetrics.span(for: refresh)) }
            },
            authorizedUserTokenURL: googleTokenEndpoint
        )
        let active = ActiveRoutes(
            configuration: configuration,
            context: .init(
                upstream: upstream, modelRouter: modelRouter, googleTokens: googleTokens, captureContent: captureContent
            )
        )
        self.active = active
        metrics.reportDeployments { modelRouter.health(of: active.snapshot.groups) }
        let tracing: [any ExchangeObserver] = spans.map { [TracingObserver(record: $0)] } ?? []
        let governance: [any ExchangeObserver] = keys.map { [$0, GovernanceMetrics(registry: metricsRegistry, keys: $0)] } ?? []
        self.observers = [metrics] + tracing + governance + observers
    }

    /// The router, for in-process tests and for ``makeApplication(onServerRunning:)``.
    public func makeRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        let metrics = MetricsEndpoint(registry: self.metricsRegistry)
        router.addMiddleware {
            ExchangeMiddleware(
                stages: [PricingStage(table: self.prices)],
                observers: self.observers,
                live: self.live,
                connections: self.connections,
                tracing: self.configuration.server.tracePolicy
            )
            // Hummingbird's own request metrics, through swift-metrics, onto the same registry when bootstrapped.
            MetricsMiddleware<GatewayRequestContext>()
            AnthropicErrorMiddleware()
            if let masterKey = self.configuration.masterKey {
                AuthenticationMiddleware(
                    masterKey: masterKey, protectsMetrics: self.configuration.server.metricsRequireAuth, directory: self.keys
                )
            }
        }
        router.get("/metrics", use: metrics.scrape)
        if let keys = self.keys, self.configuration.masterKey != nil {
            let endpoints = KeyManagementEndpoints(directory: keys)
            router.post("/key/generate", use: endpoints.generate)
            router.get("/key/info", use: endpoints.info)
            router.get("/key/list", use: endpoints.list)
            router.post("/key/delete", use: endpoints.delete)
            router.post("/key/update", use: endpoints.update)
            router.post("/key/regenerate", use: endpoints.regenerate)
            router.post("/key/:key/regenerate", use: endpoints.regenerate)
            router.post("/key/block", use: endpoints.block(true))
            router.post("/key/unblock", use: endpoints.block(false))
            let teams = TeamManagementEndpoints(directory: keys)
            router.post("/team/new", use: teams.new)
            router.post("/team/update", use: teams.update)
            router.post("/team/delete", use: teams.delete)
            router.get("/team/info", use: teams.info)
            router.get("/team/list", use: teams.list)
            router.get("/spend/logs", use: SpendLogEndpoint(directory: keys).logs)
            router.get("/global/spend/report", use: SpendReportEndpoint(directory: keys).report)
        }
        router.get("/health") { _, _ in Self.json(#"{"status":"ok"}"#) }
        let active = self.active
        router.get("/health/ready") { _, _ in active.snapshot.readiness.response() }
        // Claude Code warms the connection with `HEAD /api/hello`; answer it rather than log a 404.
        router.head("/api/hello") { _, _ in Response(status: .ok) }
        for prefix in ["", "/anthropic"] {
            router.post("\(prefix)/v1/messages") { try await active.snapshot.pipeline.createMessage($0, context: $1) }
            router.post("\(prefix)/v1/messages/count_tokens") { try await active.snapshot.pipeline.countTokens($0, context: $1) }
            router.get("\(prefix)/v1/models") { try active.snapshot.models.list($0, context: $1) }
        }
        return router
    }

    /// Serves `configuration`'s model list, router settings and aliases from now on; requests in flight
    /// finish on what they started with. Settings read at start (listen address, master key, tracing,
    /// price overrides) take a restart.
    /// Refused, with the configuration in use kept, when its declared keys or teams cannot be applied.
    public func reload(_ configuration: GatewayConfiguration, sha256: String) async throws {
        try await self.applyGovernance(configuration)
        self.active.replace(with: configuration)
        self.metrics.prepare(for: configuration)
        self.credentialMetrics.prepare(for: configuration)
        self.metrics.configurationLoaded(sha256: sha256, reloaded: true)
    }

    /// Brings the virtual keys in line with `configuration`: the gateway's budget, and the teams and keys the
    /// file declares. At start (before serving) and on every reload.
    public func applyGovernance(_ configuration: GatewayConfiguration) async throws {
        guard let keys = self.keys else { return }
        let governance = configuration.governance
        keys.configureGatewayBudget(maxBudget: governance.maxBudget, duration: governance.budgetDuration)
        try await keys.syncDeclared(teams: governance.teams, keys: governance.keys)
    }

    /// A configuration file was refused on reload: counted, and the one in use stays.
    public func reloadFailed() {
        self.metrics.configurationReloadFailed()
    }

    /// Names the configuration in use at start by its file's digest (`switchboard_config_info`).
    public func configurationLoaded(sha256: String) {
        self.metrics.configurationLoaded(sha256: sha256, reloaded: false)
    }

    /// The application, listening where the configuration says.
    /// `services` run beside the server and stop after it, in reverse order, before the upstream client.
    public func makeApplication(
        services: [any Service] = [],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let server = self.configuration.server
        return Application(
            router: self.makeRouter(),
            server: .http1(
                configuration: .init(additionalChannelHandlers: [
                    FlushConsolidationHandler(), ClientConnectionHandler(connections: self.connections),
                ])
            ),
            configuration: .init(address: .hostname(server.host, port: server.port), serverName: "switchboard"),
            services: [UpstreamClientService(client: self.upstream)] + services,
            onServerRunning: onServerRunning,
            logger: self.logger
        )
    }

    private static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
