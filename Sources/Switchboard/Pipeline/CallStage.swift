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
        let request = PendingRequest(
            decoded: decoded,
            exchange: exchange,
            sessionID: self.settings.sessionAffinity ? exchange.update { $0.sessionID } : nil,
            deadline: deadline,
            countingTokens: countingTokens
        )
        var plan = AttemptPlan(primary: match, settings: self.settings, routes: self.routes)
        var lastFailure: AttemptFailure?
        // The plan said "retry" after the last failure; it counts as a retry once an attempt is made.
        var retrying = false
        exchange.update { $0.modelGroup = match.group.name }
        while true {
            let group = plan.current.group
            let choice = self.router.choose(
                in: group,
                strategy: self.settings.strategy,
                session: request.affinityKey(in: group),
                avoiding: plan.tried,
                excluding: plan.exhausted
            )
            switch choice {
            case .deployment(let deployment):
                if retrying, let lastFailure {
                    exchange.update { $0.routingDecisions.append(.retry(group: group.name, reason: lastFailure.kind)) }
                }
                switch try await self.attempt(on: deployment, of: &plan, after: lastFailure, request) {
                case .answered(let reply):
                    return reply
                case .failed(let failure, let next):
                    lastFailure = failure
                    retrying = next == .retry
                }
            case .unavailable(let retryAt, let cause):
                let wait = retryAt.map { max(.zero, $0 - self.router.currentTime) }
                let failure = AttemptFailure.unavailable(group: group.name, cause: cause, retryIn: wait)
                let next = plan.unavailable(failure)
                // A retry that found its group cooling (the failure just cooled it) is no retry: the attempt
                // that failed is what the request falls back from, for its own reason.
                if retrying { exchange.update { $0.upstreamAttempts[$0.upstreamAttempts.count - 1].decision = next.decision } }
                let cause = retrying ? lastFailure ?? failure : failure
                retrying = false
                try self.note(next, from: group.name, reason: cause.kind, exchange: exchange, failure: cause)
            }
        }
    }

    /// What the call stage knows of the request, the same for every attempt.
    private struct PendingRequest: Sendable {
        let decoded: DecodeStage.Decoded
        let exchange: Exchange
        let sessionID: String?
        let deadline: ContinuousClock.Instant?
        let countingTokens: Bool

        /// Per group: a Claude Code session alternates between tiers (haiku, sonnet), each with its own cache.
        func affinityKey(in group: ModelGroup) -> String? {
            self.sessionID.map { "\($0)\u{1F}\(group.name)" }
        }
    }

    private enum Outcome {
        case answered(ProviderReply)
        /// The attempt failed, and the plan's next step is `next`: a retry, or a fallback already noted.
        case failed(AttemptFailure, next: AttemptPlan.Next)
    }

    /// One attempt on `deployment`, after the backoff the plan asks for: its held answer, or its failure
    /// once the router and the plan know of it (retry or fall back next). Throws when the plan gives up.
    private func attempt(
        on deployment: ModelDeployment,
        of plan: inout AttemptPlan,
        after lastFailure: AttemptFailure?,
        _ request: PendingRequest
    ) async throws -> Outcome {
        let exchange = request.exchange
        let group = plan.current
        let route = group.route(to: deployment)
        let lease = DeploymentLease(router: self.router, deployment: deployment, exchange: exchange)
        let attemptsBefore = exchange.update { $0.upstreamAttempts.count }
        do {
            let pause = plan.starting(on: deployment, after: lastFailure) { self.router.jitter(upTo: $0) }
            // A wait past the deadline (or a Retry-After of an hour) is no retry: the client gets the failure,
            // with its retry-after, now.
            if pause > .zero, let lastFailure {
                guard pause <= request.deadline.map({ $0 - .now }) ?? Self.longestWaitWithoutDeadline else {
                    throw GiveUp(error: lastFailure.error)
                }
                try await Task.sleep(for: pause)
                exchange.update { $0.backoff += pause }
            }
            try Self.validate(route)
            let started = ContinuousClock.now
            let reply = try await self.send(route, group: group, request, lease: lease)
            self.router.succeeded(deployment, session: request.affinityKey(in: group.group), firstContent: .now - started)
            return .answered(reply)
        } catch let giveUp as GiveUp {
            self.router.abandoned(deployment)
            lease.release()
            exchange.mark(.upstreamFinished)
            throw giveUp.error
        } catch where error is CancellationError || Task.isCancelled {
            self.router.abandoned(deployment)
            lease.release()
            throw CancellationError()
        } catch {
            lease.release()
            let failure = error as? AttemptFailure ?? AttemptFailure(Self.clientError(error, provider: route.provider))
            // The only way to its group is never cooled (LiteLLM's rule): skipping it would only turn its
            // errors into the gateway's own.
            let mayCool = group.group.deployments.count > 1
                || !self.settings.fallbackGroups(from: group.group.name, after: .unavailable).isEmpty
            self.router.failed(deployment, group: group.group.name, failure: failure, settings: self.settings, mayCool: mayCool)
            plan.failed(on: deployment)
            let next = plan.next(after: failure)
            exchange.update { record in
                if record.upstreamAttempts.count > attemptsBefore {
                    record.upstreamAttempts[record.upstreamAttempts.count - 1].decision = next.decision
                }
            }
            // A retry is noted when its attempt starts (the group may have no deployment left for it).
            if next != .retry { try self.note(next, from: group.group.name, reason: failure.kind, exchange: exchange, failure: failure) }
            return .failed(failure, next: next)
        }
    }

    /// Ends the request with `error` without counting it against the deployment.
    private struct GiveUp: Error {
        let error: AnthropicError
    }

    /// Sends the request on `route`: the provider's answer, held until its first content (bounded by the
    /// `stream_timeout`, when one is set).
    private func send(_ route: Route, group: GroupMatch, _ request: PendingRequest, lease: DeploymentLease) async throws
        -> ProviderReply
    {
        let (decoded, exchange, countingTokens) = (request.decoded, request.exchange, request.countingTokens)
        let deployment = route.deployment
        let attemptDeadline = [request.deadline, deployment.timeout.map { ContinuousClock.now + $0 }].compactMap { $0 }.min()
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
