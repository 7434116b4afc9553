import Telemetry

/// Virtual keys on `/metrics`, fed from finished exchanges: `switchboard_auth_failures_total{reason}`,
/// `switchboard_limit_rejections_total{scope,kind}` and `switchboard_spend_usd_total{team,key_alias}`; and,
/// read from the directory at each scrape, `switchboard_budget_remaining_usd{scope,name}`, and on a shared store
/// `switchboard_store_up` and `switchboard_store_degraded_seconds_total`.
/// Aliases and teams are capped at ``labelLimit`` distinct values each, then `other`; a key without an alias
/// is counted under its `sk-...abcd` name, the master key as `master_key`. Per-session cost is the spend
/// log's, not a label's.
final class GovernanceMetrics: ExchangeObserver {
    static let labelLimit = 200
    static let authenticationReasons = ["missing", "invalid", "expired", "blocked", "team_blocked"]
    static let limitKinds = ["model", "budget", "rpm", "tpm", "parallel"]

    private let authFailures: MetricFamily
    private let rejections: MetricFamily
    private let spend: MetricFamily
    private let teams = BoundedLabel(limit: GovernanceMetrics.labelLimit)
    private let aliases = BoundedLabel(limit: GovernanceMetrics.labelLimit)

    init(registry: MetricsRegistry, keys: KeyDirectory) {
        self.authFailures = registry.counter(
            "switchboard_auth_failures",
            help: "Requests refused for their key (401), by reason: missing, invalid, expired, blocked, team_blocked.",
            labels: ["reason"]
        )
        self.rejections = registry.counter(
            "switchboard_limit_rejections",
            help: "Requests refused by a virtual key's or team's limit (403 model, 429 budget, rpm, tpm, parallel).",
            labels: ["scope", "kind"]
        )
        self.spend = registry.counter(
            "switchboard_spend_usd",
            help: "Estimated US dollars spent, by team and key alias (master_key for requests on the master key).",
            labels: ["team", "key_alias"]
        )
        let remaining = registry.gauge(
            "switchboard_budget_remaining_usd",
            help: "US dollars left in a budget's current period, by scope (key, team, gateway) and name (key alias, team id).",
            labels: ["scope", "name"]
        )
        // The budgets nearest to running out first, when there are more than the cap.
        registry.onCollect {
            let budgets = keys.budgetsRemaining().sorted { ($0.remaining, $0.name) < ($1.remaining, $1.name) }
            remaining.replaceAll(with: budgets.prefix(Self.labelLimit).map { ([$0.scope, $0.name], $0.remaining) })
        }
        if let replicas = keys.replicas {
            // Several replicas on PostgreSQL: whether it answers, and for how long it has not, since start.
            let up = registry.gauge(
                "switchboard_store_up", help: "1 while the shared store (PostgreSQL) answers, 0 while this replica runs in degraded mode."
            )
            let degraded = registry.counter(
                "switchboard_store_degraded_seconds",
                help: "Seconds this replica has spent in degraded mode (general_settings.on_store_failure) since it started."
            )
            registry.onCollect {
                up.set(to: replicas.isStoreUp ? 1 : 0)
                degraded.increment(by: max(0, replicas.degradedSeconds() - (degraded.value() ?? 0)))
            }
        }
        // Served as 0 from the start, so that increase() sees the first refusal.
        for reason in Self.authenticationReasons { self.authFailures.increment([reason], by: 0) }
        for scope in ["key", "team"] {
            for kind in Self.limitKinds where !(scope == "team" && kind == "model") {
                self.rejections.increment([scope, kind], by: 0)
            }
        }
        self.rejections.increment(["gateway", "budget"], by: 0)
        if keys.replicas != nil { self.rejections.increment(["store", "unavailable"], by: 0) }
    }

    func exchangeDidFinish(_ record: ExchangeRecord) {
        switch record.keyRefusal {
        case .authentication(let reason)?: self.authFailures.increment([reason])
        case .limit(let scope, let kind, _)?: self.rejections.increment([scope, kind])
        case nil: break
        }
        guard record.costUSD > 0 else { return }
        let labels = record.virtualKey.map { [self.teams($0.teamID ?? ""), self.aliases($0.label.alias)] } ?? ["", "master_key"]
        self.spend.increment(labels, by: record.costUSD)
    }
}
