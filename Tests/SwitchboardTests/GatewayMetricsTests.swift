import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SwitchboardTesting
import Synchronization
import Telemetry
import Testing
import Upstream

@testable import Switchboard

/// A scripted series of requests, then every counter and histogram checked against what happened.
@Suite("Metrics from a scripted series of requests")
struct GatewayMetricsTests {
    static func yaml(_ fake: FakeGeminiServer) -> String {
        """
        model_list:
          - {model_name: echo, litellm_params: {model: mock/echo}}
          - {model_name: slow, litellm_params: {model: mock/slow, mock_chunk_chars: 1, mock_delay_ms: 50}}
          - model_name: flash
            litellm_params:
              model: gemini/gemini-2.5-flash
              api_key: k
              api_base: "\(fake.baseURL)/v1beta"
              input_cost_per_token: 0.000001
              output_cost_per_token: 0.000004
          - {model_name: unpriced, litellm_params: {model: gemini/gemini-9-experimental, api_key: k, api_base: "\(fake.baseURL)/v1beta"}}
        """
    }

    @Test("every counter and histogram count equals what happened, and cost equals the price arithmetic")
    func scriptedSeries() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: "k")
        let harness = try GatewayHarness(yaml: Self.yaml(fake))
        let tool = #","tools":[{"name":"Read","input_schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"p":{"type":"string"}}}}]"#
        @Sendable func body(_ model: String, _ text: String, stream: Bool, extra: String = "") -> String {
            #"{"model":"\#(model)","max_tokens":64,"stream":\#(stream),"messages":[{"role":"user","content":"\#(text)"}]\#(extra)}"#
        }
        let responses = try await harness.test { client in
            [
                try await client.post("/v1/messages", body("echo", "one", stream: false)),                // completed
                try await client.post("/v1/messages", body("flash", "two", stream: true, extra: tool)),  // streamed, schema rewritten
                try await client.post("/v1/messages", body("flash", "fake:error 503", stream: true)),    // upstream error
                try await client.post("/v1/messages", body("flash", "fake:malformed", stream: false)),   // malformed twice
                try await client.post("/v1/messages", body("unpriced", "three", stream: false)),         // no price
                try await client.post("/v1/messages", "{nope"),                                          // client mistake
            ]
        }
        #expect(responses.map(\.status.code) == [200, 200, 529, 502, 200, 400])

        // Cut by the client: read the start of a slow stream over a real socket, then hang up.
        try await harness.testLive { port in
            let client = UpstreamClient(configuration: .init(proxy: .none))
            let reader = Task {
                let response = try await client.execute(
                    UpstreamRequest(method: "POST", url: "http://127.0.0.1:\(port)/v1/messages", body: ByteBuffer(string: body("slow", "a long answer", stream: true)))
                )
                // Hang up once the first token has arrived.
                var seen = ""
                for try await chunk in response.body {
                    seen += String(buffer: chunk)
                    if seen.contains("content_block_delta") { break }
                }
            }
            _ = await reader.result
            await client.shutdown()
            var waited = 0
            // The recorder observes last, so once it has the seventh record every metric is in.
            while harness.recorder.all.count < 7, waited < 100 {
                try await Task.sleep(for: .milliseconds(20))
                waited += 1
            }
        }

        let records = harness.recorder.all
        #expect(records.count == 7)
        #expect(harness.metric("switchboard_requests", ["/v1/messages", "mock", "200"]) == 2)
        #expect(harness.metric("switchboard_requests", ["/v1/messages", "gemini", "200"]) == 2)
        #expect(harness.metric("switchboard_requests", ["/v1/messages", "gemini", "529"]) == 1)
        #expect(harness.metric("switchboard_requests", ["/v1/messages", "gemini", "502"]) == 1)
        #expect(harness.metric("switchboard_requests", ["/v1/messages", "", "400"]) == 1)
        #expect(harness.metric("switchboard_client_disconnects", ["/v1/messages"]) == 1)
        #expect(harness.metric("switchboard_upstream_errors", ["gemini", "http_503"]) == 1)
        // Both attempts of the malformed request failed, and each failed attempt counts.
        #expect(harness.metric("switchboard_upstream_errors", ["gemini", "malformed_call"]) == 2)
        #expect(harness.metric("switchboard_tool_call_translation_errors", ["gemini", "malformed_call"]) == 2)
        #expect(harness.metric("switchboard_tool_schema_rewrites", ["gemini"]) == 1)
        #expect(harness.metric("switchboard_unpriced_requests", ["gemini", "gemini-9-experimental"]) == 1)

        // Tokens: the sum of what the records say, per type.
        let flash = records.filter { $0.upstreamModel == "gemini-2.5-flash" && $0.status == 200 }
        #expect(flash.count == 1)
        let usage = try #require(flash.first?.usage)
        #expect(usage.inputTokens > 0 && usage.outputTokens > 0)
        #expect(harness.metric("switchboard_tokens", ["gemini", "gemini-2.5-flash", "input"]) == Double(usage.inputTokens))
        #expect(harness.metric("switchboard_tokens", ["gemini", "gemini-2.5-flash", "output"]) == Double(usage.outputTokens))
        // $1 per million input, $4 per million output, to the cent (and well beyond).
        let expectedCost = (Double(usage.inputTokens) * 1 + Double(usage.outputTokens) * 4) / 1_000_000
        #expect(abs(harness.metric("switchboard_cost_usd", ["gemini", "gemini-2.5-flash"]) - expectedCost) < 1e-12)

        // Histograms: one observation per chat request that reached a provider.
        let chat = ["chat", "gcp.gemini", "flash", "gemini-2.5-flash"]
        #expect(harness.metric("gen_ai_client_operation_duration_seconds", chat + [""]) == 1)
        #expect(harness.metric("gen_ai_client_operation_duration_seconds", chat + ["overloaded_error"]) == 1)
        #expect(harness.metric("gen_ai_client_operation_duration_seconds", chat + ["api_error"]) == 1)
        #expect(harness.metric("gen_ai_client_token_usage", chat + ["input"]) == 1)
        #expect(harness.metric("gen_ai_server_time_to_first_token_seconds", chat) == 1)
        #expect(harness.metric("gen_ai_server_time_to_first_token_seconds", ["chat", "switchboard.mock", "slow", "slow"]) == 1)
        #expect(harness.metric("switchboard_upstream_duration_seconds", ["mock"]) == 1, "the cut stream's upstream never finished")
        // Every Gemini request that reached the upstream, the failed ones too (503, malformed twice).
        #expect(harness.metric("switchboard_gateway_overhead_seconds", ["/v1/messages", "gemini"]) == 4)

        // Exemplars carry the trace ids of the requests. Rendering also runs the collectors behind the gauges.
        let openMetrics = MetricsExposition.render(harness.registry, format: .openMetrics)
        #expect(openMetrics.contains("switchboard_in_flight_requests 0.0\n"), "every exchange ended")
        for record in records where record.provider != nil {
            #expect(openMetrics.contains("trace_id=\"\(record.trace.traceID)\""))
        }
        await fake.stop()
    }

    @Test("a normal Claude Code request counts its schema rewrites, and no translation error")
    func claudeCodeRequestIsNoError() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: "k")
        let harness = try GatewayHarness(
            yaml: "model_list: [{model_name: '*', litellm_params: {model: gemini/gemini-2.5-flash, api_key: k, api_base: '\(fake.baseURL)/v1beta'}}]"
        )
        let before = MetricsExposition.render(harness.registry, format: .prometheusText)
        #expect(before.contains(#"switchboard_tool_call_translation_errors_total{provider="gemini",kind="signature_fallback"} 0"#))
        let body = try ClaudeCodeRequestTests.fixture()
        let response = try await harness.test { client in try await client.post("/v1/messages?beta=true", body) }
        await fake.stop()
        #expect(response.status == .ok)
        for kind in TranslationEvent.Kind.allCases {
            let errors = harness.metric("switchboard_tool_call_translation_errors", ["gemini", kind.rawValue])
            #expect(errors == 0, "\(kind)")
        }
        let rewrites = harness.metric("switchboard_tool_schema_rewrites", ["gemini"])
        #expect(rewrites == 11, "the fixture's 11 $schema declarations")
    }

    @Test("an incoming traceparent's trace id is the exemplar's")
    func traceparentContinues() async throws {
        let harness = try GatewayHarness(yaml: "model_list: [{model_name: echo, litellm_params: {model: mock/echo}}]")
        _ = try await harness.test { client in
            try await client.post(
                "/v1/messages",
                #"{"model":"echo","max_tokens":8,"messages":[{"role":"user","content":"x"}]}"#,
                headers: [HTTPField.Name("traceparent")!: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]
            )
        }
        #expect(harness.recorder.all.first?.trace.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(MetricsExposition.render(harness.registry, format: .openMetrics).contains(#"trace_id="4bf92f3577b34da6a3ce929d0e0e4736""#))
    }

    @Test("a caller's unsampled trace continues but leaves no span, exemplar or captured content")
    func unsampledTraceparent() async throws {
        let spans = Mutex<[SpanData]>([])
        let tracing = TracingObserver { span in spans.withLock { $0.append(span) } }
        let harness = try GatewayHarness(yaml: "model_list: [{model_name: echo, litellm_params: {model: mock/echo}}]", captureContent: true)
        let unsampled = "4bf92f3577b34da6a3ce929d0e0e4736", sampled = "0af7651916cd43dd8448eb211c80319c"
        _ = try await harness.test { client in
            // The sampled request is the contrast: the same checks find its trace, so they can fail.
            for (trace, flags) in [(unsampled, "00"), (sampled, "01")] {
                _ = try await client.post(
                    "/v1/messages",
                    #"{"model":"echo","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"x"}]}"#,
                    headers: [HTTPField.Name("traceparent")!: "00-\(trace)-00f067aa0ba902b7-\(flags)"]
                )
            }
        }
        let records = harness.recorder.all
        #expect(records.map(\.trace.traceID) == [unsampled, sampled])
        #expect(records.map { $0.trace.traceparent.suffix(3) } == ["-00", "-01"], "the decision travels on")
        #expect(records.map { $0.capturedInput != nil } == [false, true])
        #expect(records.map { $0.capturedOutput != nil } == [false, true])
        records.forEach(tracing.exchangeDidFinish)
        #expect(Set(spans.withLock { $0.map(\.traceID) }) == [sampled])
        let exposition = MetricsExposition.render(harness.registry, format: .openMetrics)
        #expect(!exposition.contains(unsampled) && exposition.contains(sampled))
    }

    @Test("/metrics negotiates the format and gzips when asked")
    func endpoint() async throws {
        let harness = try GatewayHarness(yaml: "model_list: [{model_name: echo, litellm_params: {model: mock/echo}}]\ngeneral_settings: {master_key: sk-k}")
        let (plain, open, zipped) = try await harness.test { client in
            (
                try await client.execute(uri: "/metrics", method: .get),
                try await client.execute(uri: "/metrics", method: .get, headers: [.accept: "application/openmetrics-text;version=1.0.0"]),
                try await client.execute(uri: "/metrics", method: .get, headers: [.acceptEncoding: "gzip"])
            )
        }
        #expect(plain.status == .ok, "no key needed unless metrics_require_auth")
        #expect(plain.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(String(buffer: plain.body).contains("switchboard_build_info{"))
        #expect(open.headers[.contentType] == "application/openmetrics-text; version=1.0.0; charset=utf-8")
        #expect(String(buffer: open.body).hasSuffix("# EOF\n"))
        #expect(zipped.headers[.contentEncoding] == "gzip")
        #expect(Array(zipped.body.readableBytesView.prefix(2)) == [0x1f, 0x8b])

        let locked = try GatewayHarness(yaml: "model_list: [{model_name: echo, litellm_params: {model: mock/echo}}]\ngeneral_settings: {master_key: sk-k}\nswitchboard: {metrics_require_auth: true}")
        let (denied, allowed) = try await locked.test { client in
            (
                try await client.execute(uri: "/metrics", method: .get),
                try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer sk-k"])
            )
        }
        #expect(denied.status == .unauthorized)
        #expect(allowed.status == .ok)
    }

    @Test("prices: the long-context tier, dated ids, overrides, and the shipped table parses")
    func prices() throws {
        let table = try PriceTable(yaml: String(contentsOfFile: #filePath.replacingOccurrences(of: "Tests/SwitchboardTests/GatewayMetricsTests.swift", with: "config/prices.yaml"), encoding: .utf8))
        let pro = try #require(table.price(for: "gemini-2.5-pro"))
        #expect(pro.cost(of: AnthropicUsage(inputTokens: 100_000, outputTokens: 1_000_000)) == 0.125 + 10)
        let long = AnthropicUsage(inputTokens: 150_000, outputTokens: 0, cacheReadInputTokens: 100_000)
        let longExpected: Double = (150_000.0 * 2.5 + 100_000.0 * 0.25) / 1_000_000
        #expect(abs(pro.cost(of: long) - longExpected) < 1e-12, "over 200k, the whole request takes the higher tier")
        #expect(table.price(for: "claude-sonnet-4-5-20250929")?.input == 3)
        #expect(table.price(for: "claude-opus-4-1-20250805")?.input == 15)
        #expect(table.price(for: "models/gemini-2.5-flash")?.output == 2.5)
        #expect(table.price(for: "gemini-9") == nil)
        let sonnet = try #require(table.price(for: "claude-sonnet-4-5"))
        let mixed = AnthropicUsage(inputTokens: 10, outputTokens: 20, cacheCreationInputTokens: 100, cacheReadInputTokens: 1000)
        let expected: Double = (10.0 * 3 + 20.0 * 15 + 100.0 * 3.75 + 1000.0 * 0.3) / 1_000_000
        #expect(abs(sonnet.cost(of: mixed) - expected) < 1e-15)
        #expect(throws: ConfigurationError.self) { try PriceTable(yaml: "m: {input: 1}") }
    }

    @Test("prices: OpenAI-compatible models, found by the id after the provider prefix, cache reads at their price")
    func openAICompatiblePrices() throws {
        let table = try PriceTable(yaml: String(contentsOfFile: #filePath.replacingOccurrences(of: "Tests/SwitchboardTests/GatewayMetricsTests.swift", with: "config/prices.yaml"), encoding: .utf8))
        // What the pricing stage looks up is the deployment's upstream model: the id after the first `/`.
        let yaml = """
            model_list:
              - {model_name: a, litellm_params: {model: openai/gpt-4.1-2025-04-14, api_key: k}}
              - {model_name: b, litellm_params: {model: deepseek/deepseek-chat, api_key: k}}
              - {model_name: c, litellm_params: {model: groq/openai/gpt-oss-120b, api_key: k}}
            """
        let models = try ConfigurationLoader(environment: [:]).load(yaml: yaml).configuration.deployments.map(\.upstreamModel)
        #expect(models == ["gpt-4.1-2025-04-14", "deepseek-chat", "openai/gpt-oss-120b"])

        // OpenAI's usage maps to uncached input, cache reads and output (reasoning included).
        let gpt = try #require(table.price(for: models[0]), "a dated OpenAI id finds its undated entry")
        let openAIUsage = AnthropicUsage(inputTokens: 2_000, outputTokens: 500, cacheReadInputTokens: 8_000)
        let openAIExpected: Double = (2_000.0 * 2 + 500.0 * 8 + 8_000.0 * 0.5) / 1_000_000
        #expect(abs(gpt.cost(of: openAIUsage) - openAIExpected) < 1e-15)

        // DeepSeek bills cache hits (prompt_cache_hit_tokens) at a tenth of the input price.
        let deepseek = try #require(table.price(for: models[1]))
        #expect(deepseek.cachedInput == 0.028)
        let deepseekUsage = AnthropicUsage(inputTokens: 1_000, outputTokens: 100, cacheReadInputTokens: 9_000)
        let deepseekExpected: Double = (1_000.0 * 0.28 + 100.0 * 0.42 + 9_000.0 * 0.028) / 1_000_000
        #expect(abs(deepseek.cost(of: deepseekUsage) - deepseekExpected) < 1e-15)

        #expect(table.price(for: models[2]) == PriceTable.Price(input: 0.15, output: 0.6, cachedInput: 0.075))
        // A sibling priced differently has its own entry rather than its prefix's price.
        #expect(table.price(for: "o3-pro")?.input == 20)
        #expect(table.price(for: "o3-2025-04-16")?.input == 2)
        #expect(table.price(for: "grok-4-fast-reasoning")?.input == 0.2)
        #expect(table.price(for: "grok-4-0709")?.input == 3)

        // An Azure deployment named after nothing in the table is priced as its model_info.base_model.
        let azure = """
            model_list:
              - {model_name: z, litellm_params: {model: azure/team-prod, api_key: k, api_base: "https://t.openai.azure.com"}, model_info: {base_model: gpt-4.1}}
            """
        let azureTable = table.applying(overridesFrom: try ConfigurationLoader(environment: [:]).load(yaml: azure).configuration)
        #expect(azureTable.price(for: "team-prod") == table.price(for: "gpt-4.1"))
        #expect(table.price(for: "team-prod") == nil)
    }
}
