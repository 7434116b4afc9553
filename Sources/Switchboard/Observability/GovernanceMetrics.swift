import Synchronization
import Telemetry

/// Virtual keys on `/metrics`, fed from finished exchanges: `switchboard_auth_failures_total{reason}`,
/// `switchboard_limit_rejections_total{scope,kind}` and `switchboard_spend_usd_total{team,key_alias}`.
/// Aliases and teams are capped at ``labelLimit`` distinct values each, then `other`; a key without an alias
/// is counted under its `sk-...abcd` name. Per-session cost is the spend log's, not a label's.
final class GovernanceMetrics: ExchangeObserver {
    static let labelLimit = 200
    static let authenticationReasons = ["missing", "invalid", "expired", "blocked", "team_blocked"]
    static let limitKinds = ["model", "budget", "rpm", "tpm", "parallel"]

    private let authFailures: MetricFamily
    private let rejections: MetricFamily
    private let spend: MetricFamily
    private let seen = Mutex<(aliases: Set<String>, teams: Set<String>)>(([], []))

    init(registry: MetricsRegistry) {
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
            help: "Estimated US dollars spent on virtual keys, by team and key alias.",
            labels: ["team", "key_alias"]
        )
        // Served as 0 from the start, so that increase() sees the first refusal.
        for reason in Self.authenticationReasons { self.authFailures.increment([reason], by: 0) }
        for scope in ["key", "team"] {
            for kind in Self.limitKinds where !(scope == "team" && kind == "model") {
                self.rejections.increment([scope, kind], by: 0)
            }
        }
    }

    func exchangeDidFinish(_ record: ExchangeRecord) {
        switch record.keyRefusal {
        case .authentication(let reason)?: self.authFailures.increment([reason])
        case .limit(let scope, let kind)?: self.rejections.increment([scope, kind])
        case nil: break
        }
        guard let key = record.virtualKey, record.costUSD > 0 else { return }
        let labels = self.seen.withLock { seen -> [String] in
            func bounded(_ value: String, _ set: inout Set<String>) -> String {
                if set.contains(value) { return value }
                guard set.count < Self.labelLimit else { return "other" }
                set.insert(value)
                return value
            }
            return [bounded(key.teamID ?? "", &seen.teams), bounded(key.alias ?? key.keyName, &seen.aliases)]
        }
        self.spend.increment(labels, by: record.costUSD)
    }
}
