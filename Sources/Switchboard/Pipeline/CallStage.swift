import Upstream

/// Stage 4, call: sends the request to a deployment of its model group, and on a failure before any
/// byte reached the client, to another attempt — the same group (`num_retries`, another deployment
/// first) or the groups it falls back to — as the ``ModelRouter`` and the request's ``AttemptPlan`` decide.
/// Every attempt goes through an ``UpstreamCall``, which does its accounting; each decision is noted on
/// the ``Exchange`` for metrics, spans and the access log.
struct CallStage: Sendable {
    let providers: ProviderRegistry
    let client: UpstreamClient
    let router: ModelRouter
    let routes: RouteTable
    let settings: RouterSettings

    /// The longest wait before a retry (a backoff, an upstream's `Retry-After`) when no deadline bounds it.
    static let longestWaitWithoutDeadline: Duration = .seconds(60)

    func call(
        _ decoded: DecodeStage.Decoded,
        match: GroupMatch,
        exchange: Exchange,
        countingTokens: Bool
    ) async throws -> ProviderReply {
        let deadline = [self.settings.timeout, decoded.clientTimeout].compactMap { $0 }.min().map { ContinuousClock.now + $0 }
        let sessionID = self.settings.sessionAffinity ? exchange.record.sessionID : nil
        var plan = AttemptPlan(primary: match, settings: self.settings, routes: self.routes)
        var lastFailure: AttemptFailure?
        exchange.update { $0.modelGroup = match.group.name }
        while true {
            let group = plan.current.group
            // Per group: a Claude Code session alternates between tiers (haiku, sonnet), each with its own cache.
            let session = sessionID.map { "\($0)\u{1F}\(group.name)" }
            let choice = self.router.choose(
                in: group, strategy: self.settings.strategy, session: session, avoiding: plan.tried, excluding: plan.exhausted
            )
            let deployment: ModelDeployment
            switch choice {
            case .deployment(let chosen):
                deployment = chosen
            case .unavailable(let retryAt, let cause):
                let wait = retryAt.map { max(.zero, $0 - self.router.currentTime) }
                let failure = AttemptFailure.unavailable(group: group.name, cause: cause, retryIn: wait)
                try self.note(plan.unavailable(failure), from: group.name, reason: .unavailable, exchange: exchange, failure: failure)
                continue
            }
            let route = plan.current.route(to: deployment)
            let lease = DeploymentLease(router: self.router, deployment: deployment, exchange: exchange)
            let attemptsBefore = exchange.record.upstreamAttempts.count
            let pause = plan.starting(on: deployment, after: lastFailure) { self.router.jitter(upTo: $0) }
            if pause > .zero {
                // A wait past the deadline (or a Retry-After of an hour) is no retry: the client gets the
                // failure, with its retry-after, now.
                let limit = deadline.map { $0 - .now } ?? Self.longestWaitWithoutDeadline
                do {
                    if pause > limit, let lastFailure { throw lastFailure.error }
                    try await self.wait(pause, exchange: exchange)
                } catch {
                    self.router.abandoned(deployment)
                    lease.release()
                    exchange.mark(.upstreamFinished)
                    throw error
                }
            }
            do {
                try Self.validate(route)
                let started = ContinuousClock.now
                let reply = try await self.attempt(
                    route, decoded: decoded, group: plan.current, exchange: exchange, deadline: deadline,
                    countingTokens: countingTokens, lease: lease
                )
                self.router.succeeded(deployment, session: session, firstContent: .now - started)
                return reply
            } catch where error is CancellationError || Task.isCancelled {
                self.router.abandoned(deployment)
                lease.release()
                throw CancellationError()
            } catch {
                lease.release()
                let failure = error as? AttemptFailure ?? AttemptFailure(Self.clientError(error, provider: route.provider))
                let mayCool = group.deployments.count > 1
                    || !self.settings.fallbackGroups(from: group.name, after: .unavailable).isEmpty
                self.router.failed(deployment, group: group.name, failure: failure, settings: self.settings, mayCool: mayCool)
                let next = plan.next(after: failure)
                let attempted = exchange.record.upstreamAttempts.count > attemptsBefore
                if attempted { exchange.update { $0.upstreamAttempts[$0.upstreamAttempts.count - 1].decision = next.decision } }
                try self.note(next, from: group.name, reason: failure.kind, exchange: exchange, failure: failure)
                lastFailure = failure
            }
        }
    }

    /// One attempt on `route`: the provider's answer, held until its first content (bounded by the
    /// `stream_timeout`, when one is set).
    private func attempt(
        _ route: Route,
        decoded: DecodeStage.Decoded,
        group: GroupMatch,
        exchange: Exchange,
        deadline: ContinuousClock.Instant?,
        countingTokens: Bool,
        lease: DeploymentLease
    ) async throws -> ProviderReply {
        let deployment = route.deployment
        let attemptDeadline = [deadline, deployment.timeout.map { ContinuousClock.now + $0 }].compactMap { $0 }.min()
        let target = AttemptTarget(
            modelGroup: group.group.name, deployment: deployment.name, provider: route.provider, upstreamModel: route.upstreamModel
        )
        let call = ProviderCall(
            request: decoded.request,
            body: decoded.body,
            route: route,
            forwardedHeaders: decoded.forwardedHeaders,
            query: decoded.query,
            upstream: UpstreamCall(client: self.client, exchange: exchange, target: target, deadline: attemptDeadline)
        )
        exchange.update { record in
            record.provider = route.provider
            record.upstreamModel = route.upstreamModel
        }
        let provider = self.providers.provider(for: route)
        let streamTimeout = countingTokens ? nil : deployment.streamTimeout ?? self.settings.streamTimeout
        let hold = AnswerHold(
            exchange: exchange,
            provider: route.provider.rawValue,
            refusalIsFailure: !(self.settings.contentPolicyFallbacks[group.group.name] ?? []).isEmpty,
            commitOnPing: streamTimeout == nil,
            lease: lease
        )
        let run: @Sendable () async throws -> ProviderReply = {
            try await hold.hold(countingTokens ? provider.countTokens(call) : provider.sendMessage(call))
        }
        guard let streamTimeout else { return try await run() }
        let reply = try await withThrowingTaskGroup(of: ProviderReply?.self) { attempts in
            attempts.addTask { try await run() }
            attempts.addTask {
                try await Task.sleep(for: streamTimeout)
                return nil
            }
            defer { attempts.cancelAll() }
            return try await attempts.next()!
        }
        guard let reply else {
            exchange.failAttemptUnlessFailed("stream_timeout")
            throw AttemptFailure(
                kind: .timeout,
                error: .timeout("\(route.provider.rawValue) sent no content within the stream_timeout of \(streamTimeout)")
            )
        }
        return reply
    }

    /// Notes the router's decision; throws the failure the client sees when it gives up.
    private func note(
        _ next: AttemptPlan.Next,
        from group: String,
        reason: FailureClass,
        exchange: Exchange,
        failure: AttemptFailure
    ) throws {
        switch next {
        case .retry:
            exchange.update { $0.routingDecisions.append(.retry(group: group, reason: reason)) }
        case .fallback(let target):
            exchange.update { $0.routingDecisions.append(.fallback(from: group, to: target, reason: reason)) }
        case .giveUp:
            exchange.mark(.upstreamFinished)
            throw failure.error
        }
    }

    private func wait(_ pause: Duration, exchange: Exchange) async throws {
        try await Task.sleep(for: pause)
        exchange.update { $0.backoff += pause }
    }

    /// A wildcard route copies part of the client's model name into the upstream id, which some providers
    /// put in a URL path: `gemini-x/../../files` must never reach one.
    private static func validate(_ route: Route) throws {
        if let problem = UpstreamModelID.problem(with: route.upstreamModel, for: route.provider) {
            throw AnthropicError.invalidRequest(
                "model: \(route.requestedModel) resolves to the \(route.provider.rawValue) model id "
                    + "'\(route.upstreamModel)', which is not valid: \(problem)"
            )
        }
    }

    private static func clientError(_ error: any Error, provider: ProviderKind) -> AnthropicError {
        if let error = error as? AnthropicError { return error }
        return AnthropicError.readingAnswer(failedWith: error, provider: provider.rawValue).error
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

extension AttemptFailure {
    /// No deployment of `group` can take the request: 429 when rate limits are why, else 529, with a
    /// `retry-after` saying when the first one comes back.
    static func unavailable(group: String, cause: FailureClass, retryIn wait: Duration?) -> AttemptFailure {
        let seconds = wait.map { String(Int(($0.seconds).rounded(.up))) }
        let headers = seconds.map { ["retry-after": $0] } ?? [:]
        let when = seconds.map { "; the first comes back in \($0) s" } ?? ""
        let error =
            cause == .rateLimit
            ? AnthropicError(
                status: 429, type: "rate_limit_error",
                message: "every deployment of \(group) is rate limited or at capacity\(when)", headers: headers)
            : AnthropicError(
                status: 529, type: "overloaded_error",
                message: "every deployment of \(group) is cooling down after failures\(when)", headers: headers)
        return AttemptFailure(kind: .unavailable, error: error, retryAfter: wait)
    }
}
