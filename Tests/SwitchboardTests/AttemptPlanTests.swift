import Testing

@testable import Switchboard

@Suite("A request's retries and fallback chain")
struct AttemptPlanTests {
    static let yaml = """
        model_list:
          - {model_name: a, litellm_params: {model: mock/a1}}
          - {model_name: a, litellm_params: {model: mock/a2, max_retries: 1}}
          - {model_name: b, litellm_params: {model: mock/b}}
          - {model_name: c, litellm_params: {model: mock/c}}
          - {model_name: big, litellm_params: {model: mock/big}}
        router_settings:
          num_retries: 2
          retry_policy: {AuthenticationErrorRetries: 1}
          fallbacks: [{a: [b, c]}, {b: [a, c]}, {c: [b]}]
          context_window_fallbacks: [{a: [big]}]
          max_fallbacks: 5
        """

    func plan(_ yaml: String = Self.yaml) throws -> AttemptPlan {
        let configuration = try ConfigurationLoader(environment: [:]).load(yaml: yaml).configuration
        let routes = RouteTable(configuration: configuration)
        return AttemptPlan(primary: try #require(routes.match("a")), settings: configuration.router, routes: routes)
    }

    static func failure(_ kind: FailureClass, retryAfter: Duration? = nil) -> AttemptFailure {
        AttemptFailure(kind: kind, error: .api("x"), retryAfter: retryAfter)
    }

    @Test("retryable failures retry num_retries times, then the fallbacks in order, each group once: no loop")
    func chain() throws {
        var plan = try self.plan()
        var steps: [AttemptPlan.Next] = []
        for _ in 0..<12 {
            let next = plan.next(after: Self.failure(.serverError))
            steps.append(next)
            if next == .giveUp { break }
        }
        #expect(steps == [
            .retry, .retry, .fallback(to: "b"), .retry, .retry, .fallback(to: "c"), .retry, .retry, .giveUp,
        ])
    }

    @Test("max_fallbacks bounds the chain")
    func maxFallbacks() throws {
        var plan = try self.plan(Self.yaml.replacingOccurrences(of: "max_fallbacks: 5", with: "max_fallbacks: 1"))
        let steps = (0..<8).map { _ in plan.next(after: Self.failure(.rateLimit)) }
        #expect(steps.prefix(4) == [.retry, .retry, .fallback(to: "b"), .retry])
        #expect(steps[5] == .giveUp)
    }

    @Test("client errors give up at once; a prompt too long goes to the context-window fallbacks only")
    func byFailureClass() throws {
        var plan = try self.plan()
        #expect(plan.next(after: Self.failure(.badRequest)) == .giveUp)
        plan = try self.plan()
        #expect(plan.next(after: Self.failure(.contextWindow)) == .fallback(to: "big"))
        #expect(plan.next(after: Self.failure(.contextWindow)) == .giveUp, "big has no fallbacks of its own")
        plan = try self.plan()
        #expect(plan.next(after: Self.failure(.authentication)) == .retry, "retry_policy: one retry on another key")
        #expect(plan.next(after: Self.failure(.authentication)) == .fallback(to: "b"))
    }

    @Test("a retry on another deployment starts at once; on the same one it backs off, at least the Retry-After")
    func backoff() throws {
        var plan = try self.plan()
        let (first, second) = (plan.current.group.deployments[0], plan.current.group.deployments[1])
        #expect(plan.starting(on: first, after: nil) { $0 } == .zero)
        #expect(plan.starting(on: second, after: Self.failure(.serverError)) { $0 } == .zero)
        #expect(plan.starting(on: first, after: Self.failure(.serverError)) { $0 } == .milliseconds(500))
        #expect(plan.starting(on: first, after: Self.failure(.serverError)) { $0 } == .seconds(1))
        #expect(plan.starting(on: first, after: Self.failure(.serverError)) { _ in .zero } == .zero, "full jitter")
        #expect(plan.starting(on: first, after: Self.failure(.rateLimit, retryAfter: .seconds(3))) { _ in .zero } == .seconds(3))
        plan.failed(on: first)
        #expect(!plan.exhausted.contains(first.routingKey), "no max_retries on a1")
        plan.failed(on: second)
        #expect(!plan.exhausted.contains(second.routingKey), "a2 has not been retried yet")
        _ = plan.starting(on: second, after: Self.failure(.serverError)) { $0 }
        plan.failed(on: second)
        #expect(plan.exhausted.contains(second.routingKey), "max_retries: 1 on a2, used")
    }

    @Test("a group with nothing available falls back at once, else gives up (the client's retry-after waits)")
    func unavailable() throws {
        var plan = try self.plan()
        #expect(plan.unavailable(Self.failure(.unavailable)) == .fallback(to: "b"))
        var lonely = try self.plan("model_list: [{model_name: a, litellm_params: {model: mock/a}}]")
        #expect(lonely.unavailable(Self.failure(.unavailable)) == .giveUp)
    }
}
