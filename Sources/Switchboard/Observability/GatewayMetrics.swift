import Telemetry
import Upstream

/// Every metric Switchboard serves on `/metrics`, fed from finished exchanges (see docs/metrics.md).
///
/// OTel GenAI names as Prometheus sees them, with their bucket boundaries, then the gateway's own.
/// Labels stay bounded: route templates, provider names, status codes, and model names capped at
/// ``modelLabelLimit`` distinct values (a client can send any name through a wildcard route).
public final class GatewayMetrics: ExchangeObserver {
    static let durationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
    static let tokenBuckets: [Double] = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864]
    static let timeToFirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
    static let overheadBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
    static let modelLabelLimit = 200
    /// The providers whose translation counters start at 0 whatever the configuration; the passthrough and
    /// the mock translate nothing, and an OpenAI-compatible provider's start at 0 once configured (``prepare(for:)``).
    static let translatingProviders: [ProviderKind] = [.gemini, .vertexAI]

    private let operationDuration: MetricFamily
    private let tokenUsage: MetricFamily
    private let timeToFirstToken: MetricFamily
    private let requests: MetricFamily
    private let tokens: MetricFamily
    private let cost: MetricFamily
    private let unpriced: MetricFamily
    private let translationErrors: MetricFamily
    private let schemaRewrites: MetricFamily
    private let upstreamDuration: MetricFamily
    private let overhead: MetricFamily
    private let upstreamErrors: MetricFamily
    private let clientDisconnects: MetricFamily
    private let groupRequests: MetricFamily
    private let retries: MetricFamily
    private let fallbacks: MetricFamily
    private let cooldowns: MetricFamily
    private let backoff: MetricFamily
    private let deploymentState: MetricFamily
    private let reloads: MetricFamily
    private let configurationInfo: MetricFamily
    private let registry: MetricsRegistry
    private let bounded = BoundedLabel(limit: GatewayMetrics.modelLabelLimit)

    public init(registry: MetricsRegistry, live: LiveExchanges, version: String) {
        let genAI = ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_response_model"]
        self.operationDuration = registry.histogram(
            "gen_ai_client_operation_duration_seconds",
            help: "GenAI operation duration: request received to response complete.",
            unit: "seconds",
            labels: genAI + ["error_type"],
            buckets: Self.durationBuckets
        )
        self.tokenUsage = registry.histogram(
            "gen_ai_client_token_usage",
            help: "Tokens per GenAI operation, by gen_ai_token_type (input includes cached tokens).",
            labels: genAI + ["gen_ai_token_type"],
            buckets: Self.tokenBuckets
        )
        self.timeToFirstToken = registry.histogram(
            "gen_ai_server_time_to_first_token_seconds",
            help: "Time from request received to the first token sent to the client.",
            unit: "seconds",
            labels: genAI,
            buckets: Self.timeToFirstTokenBuckets
        )
        self.requests = registry.counter(
            "switchboard_requests",
            help: "Requests by route template, provider and HTTP status.",
            labels: ["route", "provider", "status"]
        )
        self.tokens = registry.counter(
            "switchboard_tokens",
            help: "Tokens by provider, model and type: input (uncached), output, cache_read, cache_write, thinking (part of output).",
            labels: ["provider", "model", "type"]
        )
        self.cost = registry.counter(
            "switchboard_cost_usd",
            help: "Estimated cost in USD from the price table.",
            labels: ["provider", "model"]
        )
        self.unpriced = registry.counter(
            "switchboard_unpriced_requests",
            help: "Requests whose model has no price, so their cost counts as 0.",
            labels: ["provider", "model"]
        )
        self.translationErrors = registry.counter(
            "switchboard_tool_call_translation_errors",
            help: "Translation errors by provider and kind: what was lost or guessed, never a routine rewrite.",
            labels: ["provider", "kind"]
        )
        self.schemaRewrites = registry.counter(
            "switchboard_tool_schema_rewrites",
            help: "Tool schemas rewritten to suit the provider without loosening them ($schema dropped, $ref inlined).",
            labels: ["provider"]
        )
        self.upstreamDuration = registry.histogram(
            "switchboard_upstream_duration_seconds",
            help: "Time spent on the upstream: request sent to its last byte read.",
            unit: "seconds",
            labels: ["provider"],
            buckets: Self.durationBuckets
        )
        self.overhead = registry.histogram(
            "switchboard_gateway_overhead_seconds",
            help: "Time inside Switchboard per request, excluding time waiting on the upstream.",
            unit: "seconds",
            labels: ["route", "provider"],
            buckets: Self.overheadBuckets
        )
        self.upstreamErrors = registry.counter(
            "switchboard_upstream_errors",
            help: "Upstream failures by provider and type (transport kinds, http_<status>, malformed_call).",
            labels: ["provider", "type"]
        )
        self.clientDisconnects = registry.counter(
            "switchboard_client_disconnects",
            help: "Responses cut short because the client went away.",
            labels: ["route"]
        )
        self.groupRequests = registry.counter(
            "switchboard_model_group_requests",
            help: "Messages requests by the model group they were routed to and the HTTP status the client got.",
            labels: ["model_group", "status"]
        )
        self.retries = registry.counter(
            "switchboard_retries",
            help: "Attempts retried within their model group, by the failure class that caused the retry.",
            labels: ["model_group", "reason"]
        )
        self.fallbacks = registry.counter(
            "switchboard_fallbacks",
            help: "Requests that fell back from one model group to another, by the failure class that caused it.",
            labels: ["from", "to", "reason"]
        )
        self.cooldowns = registry.counter(
            "switchboard_deployment_cooldowns",
            help: "Times a deployment was put in cooldown (allowed_fails exceeded, Retry-After, a failed probe).",
            labels: ["model_group", "deployment"]
        )
        self.backoff = registry.counter(
            "switchboard_backoff_seconds",
            help: "Time requests spent waiting between attempts (backoff, Retry-After).",
            labels: ["model_group"]
        )
        self.deploymentState = registry.gauge(
            "switchboard_deployment_state",
            help: "1 for each deployment's current state (healthy, cooling, half_open), 0 for the others.",
            labels: ["model_group", "deployment", "state"]
        )
        self.reloads = registry.counter(
            "switchboard_config_reloads",
            help: "Configuration reloads (SIGHUP or a changed file) by result: success, or failure (the old one stays).",
            labels: ["result"]
        )
        for result in ["success", "failure"] { self.reloads.increment([result], by: 0) }
        self.configurationInfo = registry.gauge(
            "switchboard_config_info",
            help: "1 for the configuration file in use, by its SHA-256 (as sha256sum prints it).",
            labels: ["sha256"]
        )
        self.registry = registry
        let inFlight = registry.gauge("switchboard_in_flight_requests", help: "Requests being served now.")
        let inFlightStreams = registry.gauge("switchboard_in_flight_streams", help: "Streaming responses open now.")
        registry.onCollect {
            let counts = live.counts
            inFlight.set(to: Double(counts.requests))
            inFlightStreams.set(to: Double(counts.streams))
        }
        registry.gauge("switchboard_build_info", help: "Build information; always 1.", labels: ["version", "curl_version"])
            .set([version, UpstreamClient.curlVersion], to: 1)
        // Served as 0 from the start, so that panels show a quiet gateway and increase() sees the first error.
        self.zeroTranslationCounters(of: Self.translatingProviders)
    }

    /// Starts the translation counters of the configuration's OpenAI-compatible providers at 0, so that
    /// increase() sees their first error; providers nobody configured stay off `/metrics`.
    func prepare(for configuration: GatewayConfiguration) {
        let used = Set(configuration.deployments.map(\.provider)).filter { $0.chatCompletionsDialect != nil }
        self.zeroTranslationCounters(of: used.sorted { $0.rawValue < $1.rawValue })
    }

    private func zeroTranslationCounters(of providers: [ProviderKind]) {
        for provider in providers.map(\.rawValue) {
            self.schemaRewrites.increment([provider], by: 0)
            for kind in TranslationEvent.Kind.allCases where kind.isError {
                self.translationErrors.increment([provider, kind.rawValue], by: 0)
            }
        }
    }

    /// The configuration whose file has digest `sha256` is in use; `reloaded` when it replaced another.
    func configurationLoaded(sha256: String, reloaded: Bool) {
        self.configurationInfo.replaceAll(with: [([sha256], 1)])
        if reloaded { self.reloads.increment(["success"]) }
    }

    /// A new configuration was refused; the one in use stays.
    func configurationReloadFailed() {
        self.reloads.increment(["failure"])
    }

    /// A deployment began a cooldown.
    func cooldownStarted(group: String, deployment: String) {
        self.cooldowns.increment([group, deployment])
    }

    /// Serves each deployment's state from `statuses`, read at every scrape.
    func reportDeployments(_ statuses: @escaping @Sendable () -> [DeploymentStatus]) {
        let family = self.deploymentState
        let cooldowns = self.cooldowns
        self.registry.onCollect {
            var states: [(labels: [String], value: Double)] = []
            for status in statuses() {
                // Present from the start, so rate() and increase() see the first cooldown.
                cooldowns.increment([status.group, status.deployment], by: 0)
                for phase in DeploymentHealth.Phase.allCases {
                    states.append(([status.group, status.deployment, phase.rawValue], phase.rawValue == status.phaseName ? 1 : 0))
                }
            }
            // Only the deployments configured now: a removed one's last state would otherwise stay, and
            // could hide a group whose every remaining deployment is cooling.
            family.replaceAll(with: states)
        }
    }

    public func exchangeDidFinish(_ record: ExchangeRecord) {
        let provider = record.provider?.rawValue ?? ""
        // An exemplar links to a trace, so only a sampled (exported) trace gets one.
        let exemplar = { (value: Double) -> Exemplar? in
            guard record.trace.isSampled else { return nil }
            return Exemplar(traceID: record.trace.traceID, spanID: record.trace.spanID, value: value, timestamp: record.startTime)
        }
        self.requests.increment([record.route, provider, String(record.status)], exemplar: exemplar(1))
        if record.clientDisconnected { self.clientDisconnects.increment([record.route]) }
        // Before the provider check: a request its cooling group refused reached no provider, yet the client
        // got an answer from the group.
        if let group = record.modelGroup {
            let bounded = self.bounded(group)
            if record.route.hasSuffix("/v1/messages") { self.groupRequests.increment([bounded, String(record.status)]) }
            for decision in record.routingDecisions {
                switch decision {
                case .retry(let group, let reason): self.retries.increment([self.bounded(group), reason.rawValue])
                case .fallback(let from, let to, let reason):
                    self.fallbacks.increment([self.bounded(from), self.bounded(to), reason.rawValue])
                }
            }
            if record.backoff > .zero { self.backoff.increment([bounded], by: record.backoff.seconds) }
        }
        guard let kind = record.provider else { return }

        let model = self.bounded(record.upstreamModel ?? "")
        // Every failed attempt counts, the retried ones too: each is an upstream failing.
        for attempt in record.upstreamAttempts {
            if let failure = attempt.failure { self.upstreamErrors.increment([attempt.target.provider.rawValue, failure]) }
        }
        for event in record.translationEvents {
            if event.kind.isError {
                self.translationErrors.increment([provider, event.kind.rawValue])
            } else {
                self.schemaRewrites.increment([provider])
            }
        }
        if let upstream = record.seconds(from: .upstreamRequestSent, to: .upstreamFinished) {
            self.upstreamDuration.observe([provider], upstream, exemplar: exemplar(upstream))
            if let total = record.seconds(from: .received, to: .finished) {
                let inside = max(0, total - upstream)
                self.overhead.observe([record.route, provider], inside, exemplar: exemplar(inside))
            }
        }

        let usage = record.usage
        for (type, count) in [
            ("input", usage.inputTokens), ("output", usage.outputTokens), ("cache_read", usage.cacheReadInputTokens),
            ("cache_write", usage.cacheCreationInputTokens), ("thinking", record.thinkingTokens),
        ] where count > 0 {
            self.tokens.increment([provider, model, type], by: Double(count))
        }
        if record.isPriced {
            if record.costUSD > 0 { self.cost.increment([provider, model], by: record.costUSD) }
        } else {
            self.unpriced.increment([provider, model])
        }

        // The GenAI operation metrics describe chat calls, not token counting or model listing.
        guard record.route.hasSuffix("/v1/messages") else { return }
        let genAI = ["chat", Self.genAIProviderName(kind), self.bounded(record.requestedModel ?? ""), model]
        if let total = record.seconds(from: .received, to: .finished) {
            self.operationDuration.observe(genAI + [record.errorType ?? ""], total, exemplar: exemplar(total))
        }
        if let first = record.seconds(from: .received, to: .firstToken) {
            self.timeToFirstToken.observe(genAI, first, exemplar: exemplar(first))
        }
        if record.errorType == nil {
            let input = usage.inputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens
            self.tokenUsage.observe(genAI + ["input"], Double(input))
            self.tokenUsage.observe(genAI + ["output"], Double(usage.outputTokens))
        }
    }

    /// OTel's `gen_ai.provider.name` values.
    static func genAIProviderName(_ kind: ProviderKind) -> String {
        switch kind {
        case .anthropic: "anthropic"
        case .gemini: "gcp.gemini"
        case .vertexAI: "gcp.vertex_ai"
        case .mock: "switchboard.mock"
        default: kind.chatCompletionsDialect?.genAIProviderName ?? kind.rawValue
        }
    }
}
