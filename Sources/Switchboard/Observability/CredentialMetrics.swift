import Synchronization
import Telemetry

/// Google credential refreshes on `/metrics`: `switchboard_credential_refreshes_total{source,result}` and
/// `switchboard_credential_token_expiry_seconds{source,type}`, the time the cached token has left, computed at
/// each scrape (negative once it has expired without a successful refresh, which is what an alert wants).
public final class CredentialMetrics: Sendable {
    private let refreshes: MetricFamily
    private let expiries = Mutex<[[String]: ContinuousClock.Instant]>([:])

    public init(registry: MetricsRegistry, clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.refreshes = registry.counter(
            "switchboard_credential_refreshes",
            help: "Google access token refreshes by credential source and result (success, failure).",
            labels: ["source", "result"]
        )
        let expiry = registry.gauge(
            "switchboard_credential_token_expiry_seconds",
            help: "Seconds until the cached Google access token expires, by credential source and type.",
            labels: ["source", "type"]
        )
        registry.onCollect { [self] in
            let now = clock()
            let values = self.expiries.withLock { $0 }.map { labels, expiresAt in
                (labels: labels, value: Double((expiresAt - now) / .milliseconds(1)) / 1000)
            }
            expiry.replaceAll(with: values)
        }
    }

    /// Serves the refresh counters of the credentials `configuration` uses at 0 before their first refresh,
    /// so that increase() sees the first one (a failure, when the credentials are broken from the start).
    public func prepare(for configuration: GatewayConfiguration) {
        for source in Set(configuration.deployments.compactMap { $0.vertex?.credentials.source.label }) {
            for result in ["success", "failure"] { self.refreshes.increment([source, result], by: 0) }
        }
    }

    public func record(_ refresh: CredentialRefresh) {
        for result in ["success", "failure"] {
            self.refreshes.increment([refresh.source, result], by: result == refresh.result ? 1 : 0)
        }
        if let expiresAt = refresh.expiresAt {
            self.expiries.withLock { $0[[refresh.source, refresh.typeName]] = expiresAt }
        }
    }

    /// The refresh as a client span: a child of the request that waited for it, else the root of its own trace.
    public static func span(for refresh: CredentialRefresh) -> SpanData {
        let trace = refresh.parent?.child() ?? TraceContext()
        var attributes: [String: AttributeValue] = [
            "switchboard.credential.source": .string(refresh.source),
            "switchboard.credential.type": .string(refresh.typeName),
            "switchboard.credential.result": .string(refresh.result),
        ]
        if let server = refresh.serverAddress { attributes["server.address"] = .string(server) }
        if let errorType = refresh.errorType { attributes["error.type"] = .string(errorType) }
        if let lifetime = refresh.lifetime {
            attributes["switchboard.credential.token_lifetime_seconds"] = .int(lifetime.components.seconds)
        }
        return SpanData(
            traceID: trace.traceID,
            spanID: trace.spanID,
            parentSpanID: trace.parentSpanID,
            name: "refresh google credentials",
            kind: .client,
            startUnixNano: refresh.startUnixNano,
            endUnixNano: max(refresh.endUnixNano, refresh.startUnixNano),
            attributes: attributes,
            status: refresh.succeeded ? .unset : .error,
            statusMessage: refresh.errorType
        )
    }
}
