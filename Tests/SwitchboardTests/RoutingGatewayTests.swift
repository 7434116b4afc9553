import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import SwitchboardTesting
import Telemetry
import Testing

@testable import Switchboard

/// Retries, fallbacks and cooldowns through the gateway's router, against fake upstreams; nothing sleeps
/// except the backoff the router itself decides (zero here: retries go to other deployments).
@Suite("Routing through the gateway: retries, fallbacks, cooldowns")
struct RoutingGatewayTests {
    static let key = "k"
    /// Nothing listens on port 1 of loopback: connecting is refused at once.
    static let refused = "http://127.0.0.1:1/v1beta"

    static func body(_ model: String, _ text: String = "hi", stream: Bool = false) -> String {
        #"{"model":"\#(model)","max_tokens":64,"stream":\#(stream),"messages":[{"role":"user","content":"\#(text)"}]}"#
    }

    @Test("a deployment that refuses connections is retried on the group's other deployment, and the span says so")
    func retryOnAnotherDeployment() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(Self.refused)", weight: 1000000}}
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(fake.baseURL)/v1beta", weight: 1}}
            router_settings: {num_retries: 1}
            """)
        for stream in [false, true] {
            let response = try await harness.test { client in try await client.post("/v1/messages", Self.body("g", stream: stream)) }
            #expect(response.status == .ok)
        }
        for record in harness.recorder.all {
            #expect(record.upstreamAttempts.map(\.target.deployment) == ["g#1", "g#2"])
            #expect(record.upstreamAttempts.map(\.failure) == ["connection_refused", nil])
            #expect(record.upstreamAttempts.first?.decision == "retried")
            #expect(record.routingDecisions == [.retry(group: "g", reason: .serverError)])
            #expect(record.status == 200)
        }
        #expect(harness.metric("switchboard_retries", ["g", "server_error"]) == 2)
        #expect(harness.metric("switchboard_upstream_errors", ["gemini", "connection_refused"]) == 2)
        #expect(harness.metric("switchboard_model_group_requests", ["g", "200"]) == 2)
        await fake.stop()
    }

    @Test("when a group's retries are spent the request falls back to another provider's group")
    func fallbackAcrossProviders() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(fake.baseURL)/v1beta"}}
              - {model_name: backup, litellm_params: {model: mock/backup}}
            router_settings:
              num_retries: 1
              fallbacks: [{g: [backup]}]
            """)
        let response = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("g", "fake:error 503", stream: true))
        }
        #expect(response.status == .ok)
        #expect(response.events.last?.name == "message_stop")
        let record = try #require(harness.recorder.all.first)
        #expect(record.fallbackChain == ["g", "backup"])
        #expect(record.upstreamAttempts.map(\.failure) == ["http_503", "http_503", nil])
        #expect(record.upstreamAttempts.map(\.decision) == ["retried", "fell_back", nil])
        #expect(record.provider == .mock, "the answering deployment's provider")
        #expect(harness.metric("switchboard_fallbacks", ["g", "backup", "server_error"]) == 1)
        await fake.stop()
    }

    @Test("a safety block before any content takes the content-policy fallback; a client error is never retried")
    func contentPolicyAndClientErrors() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(fake.baseURL)/v1beta"}}
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(fake.baseURL)/v1beta"}}
              - {model_name: careful, litellm_params: {model: mock/careful, mock_response: "a careful answer"}}
            router_settings:
              num_retries: 3
              fallbacks: [{g: [careful]}]
              content_policy_fallbacks: [{g: [careful]}]
            """)
        let (blocked, tooLong) = try await harness.test { client in
            (
                try await client.post("/v1/messages", Self.body("g", "fake:blocked")),
                try await client.post("/v1/messages", Self.body("g", "fake:overflow"))
            )
        }
        #expect(blocked.status == .ok)
        #expect(String(buffer: blocked.body).contains("a careful answer"))
        #expect(tooLong.status == .badRequest, "a prompt too long is the client's; no context_window_fallbacks here")
        let records = harness.recorder.all
        #expect(records.first { $0.status == 400 }?.upstreamAttempts.count == 1)
        #expect(harness.metric("switchboard_fallbacks", ["g", "careful", "content_policy"]) == 1)
        await fake.stop()
    }

    @Test("a group whose every deployment cools answers 529 with retry-after, and /health/ready says which")
    func coolingGroup() async throws {
        let harness = try GatewayHarness(yaml: """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(Self.refused)"}}
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(Self.refused)"}}
              - {model_name: ok, litellm_params: {model: mock/ok}}
            router_settings: {num_retries: 1, allowed_fails: 0, cooldown_time: 30}
            """)
        let (first, second, ready, metrics) = try await harness.test { client in
            (
                try await client.post("/v1/messages", Self.body("g")),
                try await client.post("/v1/messages", Self.body("g")),
                try await client.execute(uri: "/health/ready", method: .get),
                try await client.execute(uri: "/metrics", method: .get)
            )
        }
        #expect(first.status.code == 502, "both deployments refused: the last failure")
        #expect(second.status.code == 529)
        let retryAfter = try #require(second.headers[HTTPField.Name("retry-after")!].flatMap(Int.init))
        #expect((29...30).contains(retryAfter))
        #expect(second.errorMessage?.contains("every deployment of g is cooling down") == true)
        #expect(harness.recorder.all.last?.upstreamAttempts.isEmpty == true, "nothing was sent")
        #expect(ready.status == .serviceUnavailable)
        let cooling = (ready.json["cooling"] as? [[String: Any]])?.compactMap { $0["deployment"] as? String }
        #expect(cooling == ["g#1", "g#2"])
        #expect(ready.json["unavailable_groups"] as? [String] == ["g"])
        let text = String(buffer: metrics.body)
        #expect(text.contains(#"switchboard_deployment_state{model_group="g",deployment="g#1",state="cooling"} 1"#))
        #expect(text.contains(#"switchboard_deployment_state{model_group="ok",deployment="ok#1",state="healthy"} 1"#))
        #expect(harness.metric("switchboard_deployment_cooldowns", ["g", "g#1"]) == 1)
    }

    @Test("the only deployment of a group without fallbacks never cools: its own errors reach the client each time")
    func soleDeploymentDoesNotCool() async throws {
        let harness = try GatewayHarness(yaml: """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(Self.refused)"}}
            router_settings: {num_retries: 0, allowed_fails: 0}
            """)
        let statuses = try await harness.test { client in
            [try await client.post("/v1/messages", Self.body("g")), try await client.post("/v1/messages", Self.body("g"))]
                .map(\.status.code)
        }
        #expect(statuses == [502, 502])
        #expect(harness.recorder.all.allSatisfy { $0.upstreamAttempts.count == 1 })
    }

    @Test("stream_timeout: no content in time is a timeout failure, and the fallback answers")
    func streamTimeout() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(fake.baseURL)/v1beta", stream_timeout: 0.3}}
              - {model_name: backup, litellm_params: {model: mock/backup}}
            router_settings: {num_retries: 0, fallbacks: [{g: [backup]}]}
            """)
        let started = ContinuousClock.now
        let response = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("g", "fake:silence 4", stream: true))
        }
        #expect(ContinuousClock.now - started < .seconds(3), "the silent attempt was cut at its stream_timeout")
        #expect(response.status == .ok)
        #expect(response.events.last?.name == "message_stop")
        let record = try #require(harness.recorder.all.first)
        #expect(record.upstreamAttempts.map(\.failure) == ["stream_timeout", nil])
        #expect(record.routingDecisions == [.fallback(from: "g", to: "backup", reason: .timeout)])
        await fake.stop()
    }

    @Test("the request's deadline (router_settings.timeout, or the client's x-stainless-timeout) cuts a slow upstream")
    func deadlines() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let yaml = { (timeout: String) in
            """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(fake.baseURL)/v1beta"}}
            router_settings: {num_retries: 0\(timeout)}
            """
        }
        let configured = try GatewayHarness(yaml: yaml(", timeout: 0.4"))
        let unbounded = try GatewayHarness(yaml: yaml(""))
        let clientDeadline: HTTPFields = [HTTPField.Name("x-stainless-timeout")!: "0.4"]
        for (harness, headers) in [(configured, HTTPFields()), (unbounded, clientDeadline)] {
            let started = ContinuousClock.now
            let response = try await harness.test { client in
                try await client.post("/v1/messages", Self.body("g", "fake:silence 4"), headers: headers)
            }
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(response.status.code == 504)
            #expect(harness.recorder.all.first?.upstreamAttempts.first?.failure == "timeout")
        }
        await fake.stop()
    }

    @Test("spans name each attempt's deployment and the router's decision; the server span the fallback chain")
    func spans() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(fake.baseURL)/v1beta"}}
              - {model_name: backup, litellm_params: {model: mock/backup}, model_info: {id: the-mock}}
            router_settings: {num_retries: 0, fallbacks: [{g: [backup]}]}
            """)
        _ = try await harness.test { client in try await client.post("/v1/messages", Self.body("g", "fake:error 429")) }
        let spans = Mutex<[SpanData]>([])
        TracingObserver { span in spans.withLock { $0.append(span) } }.exchangeDidFinish(try #require(harness.recorder.all.first))
        let recorded = spans.withLock { $0 }
        let server = try #require(recorded.first { $0.kind == .server })
        #expect(server.attributes["switchboard.fallback_chain"] == .stringArray(["g", "backup"]))
        #expect(server.attributes["switchboard.model_group"] == .string("g"))
        #expect(server.attributes["switchboard.deployment"] == .string("the-mock"))
        let clients = recorded.filter { $0.kind == .client }
        #expect(clients.map { $0.attributes["switchboard.deployment"] } == [.string("g#1"), .string("the-mock")])
        #expect(clients.map { $0.attributes["switchboard.decision"] } == [.string("fell_back"), nil])
        #expect(clients.map { $0.attributes["error.type"] } == [.string("http_429"), nil])
        #expect(clients.map { $0.attributes["gen_ai.provider.name"] } == [.string("gcp.gemini"), .string("switchboard.mock")])
        await fake.stop()
    }

    @Test("a 429 that cools a group's only deployment is a fallback for rate_limit, not a retry that never happened")
    func retryIntoACoolingGroup() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(fake.baseURL)/v1beta"}}
              - {model_name: backup, litellm_params: {model: mock/backup}}
            router_settings: {num_retries: 2, fallbacks: [{g: [backup]}]}
            """)
        let response = try await harness.test { client in try await client.post("/v1/messages", Self.body("g", "fake:error 429")) }
        #expect(response.status == .ok)
        let record = try #require(harness.recorder.all.first)
        #expect(record.routingDecisions == [.fallback(from: "g", to: "backup", reason: .rateLimit)])
        #expect(record.upstreamAttempts.map(\.decision) == ["fell_back", nil])
        #expect(harness.metric("switchboard_retries", ["g", "rate_limit"]) == 0)
        #expect(harness.metric("switchboard_fallbacks", ["g", "backup", "rate_limit"]) == 1)
        await fake.stop()
    }

    @Test("max_retries: 0 keeps a retry off that deployment; with no other, the client gets the upstream's error")
    func maxRetriesZero() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: Self.key)
        let harness = try GatewayHarness(yaml: """
            model_list:
              - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: "\(fake.baseURL)/v1beta", max_retries: 0}}
            router_settings: {num_retries: 2}
            """)
        let response = try await harness.test { client in try await client.post("/v1/messages", Self.body("g", "fake:error 503")) }
        #expect(response.status.code == 529)
        #expect(response.errorMessage?.hasPrefix("gemini:") == true, "the upstream's own error: \(response.errorMessage ?? "")")
        #expect(harness.recorder.all.first?.upstreamAttempts.count == 1)
        #expect(harness.metric("switchboard_retries", ["g", "server_error"]) == 0)
        await fake.stop()
    }

    @Test("after a reload, /metrics has the state of the deployments configured now, not of removed ones")
    func reloadDropsRemovedDeployments() async throws {
        let yaml = """
            model_list:
              - {model_name: g, litellm_params: {model: mock/a}}
              - {model_name: g, litellm_params: {model: mock/b}}
            """
        let harness = try GatewayHarness(yaml: yaml)
        let before = try await harness.test { client in String(buffer: try await client.execute(uri: "/metrics", method: .get).body) }
        #expect(before.contains(#"switchboard_deployment_state{model_group="g",deployment="g#2",state="healthy"} 1"#))
        let smaller = try ConfigurationLoader(environment: [:]).load(yaml: "model_list: [{model_name: g, litellm_params: {model: mock/a}}]")
        try await harness.gateway.reload(smaller.configuration, sha256: "new")
        let after = try await harness.test { client in String(buffer: try await client.execute(uri: "/metrics", method: .get).body) }
        #expect(after.contains(#"switchboard_deployment_state{model_group="g",deployment="g#1",state="healthy"} 1"#))
        // Its cooldown counter stays (a counter's history is still true); its state does not.
        #expect(!after.contains(#"switchboard_deployment_state{model_group="g",deployment="g#2""#), "g#2 was removed")
        #expect(after.contains(#"switchboard_config_info{sha256="new"} 1"#))
        #expect(after.contains(#"switchboard_config_reloads_total{result="success"} 1"#))
    }
}
