/// `router_settings` (and the `litellm_settings` LiteLLM also reads for them): how a model group's
/// deployments are chosen, retried, fallen back from and cooled down. LiteLLM's keys and meanings;
/// docs/routing.md lists each with what it does here.
public struct RouterSettings: Sendable {
    /// `routing_strategy`.
    public enum Strategy: String, Sendable, CaseIterable {
        /// A random deployment, weighted by `weight`, else `rpm`, else `tpm`, else evenly.
        case simpleShuffle = "simple-shuffle"
        /// The deployment with the fewest requests in flight.
        case leastBusy = "least-busy"
        /// The deployment with the lowest recent time to first token, with a small share of exploration.
        case latencyBased = "latency-based-routing"
    }

    public var strategy = Strategy.simpleShuffle
    /// `num_retries`: retries within a model group after the first attempt, for retryable failures.
    public var numRetries = 2
    /// `retry_policy`: retries per failure class, overriding ``numRetries`` for that class.
    public var retryPolicy: [FailureClass: Int] = [:]
    /// `allowed_fails`: failures within a minute a deployment may have before it cools down (more than
    /// this many cools it).
    public var allowedFails = 3
    /// `allowed_fails_policy`: ``allowedFails`` per failure class.
    public var allowedFailsPolicy: [FailureClass: Int] = [:]
    /// `cooldown_time`: how long a deployment that failed too often is skipped.
    public var cooldownTime: Duration = .seconds(5)
    /// `timeout`: the most a whole request (every attempt and wait) may take.
    public var timeout: Duration?
    /// `stream_timeout`: the most an attempt may take until its first content; a breach is retried.
    public var streamTimeout: Duration?
    /// `fallbacks`: model group → the groups to try, in order, once its own retries are spent.
    public var fallbacks: [String: [String]] = [:]
    /// `default_fallbacks`: for every group without its own `fallbacks` entry.
    public var defaultFallbacks: [String] = []
    /// `context_window_fallbacks`: taken when the upstream says the prompt is too long.
    public var contextWindowFallbacks: [String: [String]] = [:]
    /// `content_policy_fallbacks`: taken on a safety block or refusal.
    public var contentPolicyFallbacks: [String: [String]] = [:]
    /// `max_fallbacks`: the most fallback groups one request may try.
    public var maxFallbacks = 5
    /// `retry_after`: the least time to wait before retrying the same deployment.
    public var minimumRetryWait: Duration = .zero
    /// The longest backoff between two attempts on the same deployment (full jitter below it).
    public var maximumBackoff: Duration = .seconds(8)
    /// `switchboard.routing.session_affinity`: keep a Claude Code session on the deployment that served
    /// its previous request while it is healthy, so provider prompt caches keep hitting.
    public var sessionAffinity = true

    public init() {}

    /// The retries a failure of `kind` earns within a group.
    func retries(for kind: FailureClass) -> Int {
        guard kind.isRetryable || self.retryPolicy[kind] != nil, kind.mayRetry else { return 0 }
        return self.retryPolicy[kind] ?? self.numRetries
    }

    /// The failures of `kind` a deployment may have within a minute before it cools down.
    func allowedFails(for kind: FailureClass) -> Int {
        self.allowedFailsPolicy[kind] ?? self.allowedFails
    }

    /// The groups to fall back to from `group` after a failure of `kind`.
    func fallbackGroups(from group: String, after kind: FailureClass) -> [String] {
        switch kind {
        case .contextWindow: self.contextWindowFallbacks[group] ?? []
        case .contentPolicy: self.contentPolicyFallbacks[group] ?? []
        case .badRequest: []
        case .rateLimit, .serverError, .timeout, .authentication, .unavailable:
            self.fallbacks[group] ?? self.defaultFallbacks
        }
    }
}
