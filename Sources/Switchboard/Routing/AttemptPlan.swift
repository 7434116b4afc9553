/// One request's way through its model group and the groups it falls back to: which group the next
/// attempt goes to, how many retries are left there, how long to wait first, and when to give up.
///
/// Plain state, changed only by the call stage between attempts; the ``ModelRouter`` holds what is shared
/// between requests. A group is tried at most once per request, and at most `max_fallbacks` groups
/// follow the first, so a chain of fallbacks always ends.
struct AttemptPlan {
    let settings: RouterSettings
    private let routes: RouteTable
    /// The group attempts go to now.
    private(set) var current: GroupMatch
    /// Deployments of the current group this request tried already: retries go elsewhere first.
    private(set) var tried: Set<String> = []
    /// Deployments whose own `max_retries` this request used up.
    private(set) var exhausted: Set<String> = []
    private var retriesUsed = 0
    private var sameDeploymentRetries: [String: Int] = [:]
    private var visited: Set<String>
    private var queued: [String] = []
    private var fallbacksTaken = 0

    /// What to do after a failure.
    enum Next: Equatable {
        /// Another attempt in the current group.
        case retry
        /// The next attempts go to this group.
        case fallback(to: String)
        case giveUp
    }

    /// The backoff base: the first retry of the same deployment waits up to this long, each next one twice
    /// as long (full jitter), up to `maximumBackoff`.
    static let backoffBase: Duration = .milliseconds(500)

    init(primary: GroupMatch, settings: RouterSettings, routes: RouteTable) {
        self.settings = settings
        self.routes = routes
        self.current = primary
        self.visited = [primary.group.name]
    }

    /// The attempt about to start goes to `deployment`; returns how long to wait before it: nothing when it
    /// goes to a deployment this request has not tried, else exponential backoff with full jitter (and at
    /// least the upstream's `Retry-After`, and `retry_after`).
    mutating func starting(
        on deployment: ModelDeployment,
        after failure: AttemptFailure?,
        random: (Duration) -> Duration
    ) -> Duration {
        let key = deployment.routingKey
        guard self.tried.contains(key) else {
            self.tried.insert(key)
            return .zero
        }
        let retry = self.sameDeploymentRetries[key, default: 0] + 1
        self.sameDeploymentRetries[key] = retry
        let ceiling = min(self.settings.maximumBackoff, Self.backoffBase * (1 << min(retry - 1, 16)))
        return max(random(ceiling), self.settings.minimumRetryWait, failure?.retryAfter ?? .zero)
    }

    /// An attempt on `deployment` failed: once it has had its own `max_retries`, no further attempt of
    /// this request goes to it.
    mutating func failed(on deployment: ModelDeployment) {
        let key = deployment.routingKey
        if let maximum = deployment.maxRetries, self.sameDeploymentRetries[key, default: 0] >= maximum {
            self.exhausted.insert(key)
        }
    }

    /// After an attempt in the current group failed with `failure`: retry in the group while its retries
    /// last, else fall back, else give up.
    mutating func next(after failure: AttemptFailure) -> Next {
        if self.retriesUsed < self.settings.retries(for: failure.kind) {
            self.retriesUsed += 1
            return .retry
        }
        return self.fallBack(after: failure)
    }

    /// The current group has no deployment to take a request now (all cooling, or at capacity): fall back
    /// when there is a group to fall back to, else give up — the client gets 529 or 429 with a
    /// `retry-after` saying when the first deployment comes back, and its own retry waits for that.
    mutating func unavailable(_ failure: AttemptFailure) -> Next {
        self.fallBack(after: failure)
    }

    private mutating func fallBack(after failure: AttemptFailure) -> Next {
        for name in self.settings.fallbackGroups(from: self.current.group.name, after: failure.kind)
        where !self.queued.contains(name) {
            self.queued.append(name)
        }
        while self.fallbacksTaken < self.settings.maxFallbacks, !self.queued.isEmpty {
            let name = self.queued.removeFirst()
            guard let match = self.routes.match(name), !self.visited.contains(match.group.name) else { continue }
            self.visited.insert(match.group.name)
            self.fallbacksTaken += 1
            self.current = match
            self.tried = []
            self.exhausted = []
            self.retriesUsed = 0
            self.sameDeploymentRetries = [:]
            return .fallback(to: match.group.name)
        }
        return .giveUp
    }
}

extension AttemptPlan.Next {
    /// The attempt's `decision`, as spans show it.
    var decision: String {
        switch self {
        case .retry: "retried"
        case .fallback: "fell_back"
        case .giveUp: "gave_up"
        }
    }
}
