import CoreMetrics
import Foundation
import Telemetry
import Testing

@Suite("Metrics exposition")
struct MetricsExpositionTests {
    func sampleRegistry() -> MetricsRegistry {
        let registry = MetricsRegistry()
        let requests = registry.counter("app_requests", help: "Requests \"served\"", labels: ["route", "status"])
        requests.increment(["/v1/messages", "200"], exemplar: Exemplar(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "00f067aa0ba902b7", value: 1, timestamp: 1_700_000_000.5))
        requests.increment(["/v1/messages", "200"])
        requests.increment(["/v1/models", "401"])
        let tokens = registry.histogram("app_tokens", help: "Tokens", labels: ["type"], buckets: [1, 1_048_576, 4_194_304])
        tokens.observe(["input"], 2_000_000, exemplar: Exemplar(traceID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", value: 2_000_000, timestamp: 1_700_000_001))
        let duration = registry.histogram("app_duration_seconds", help: "Time", unit: "seconds", buckets: [0.01, 0.1])
        duration.observe([], 0.05)
        registry.gauge("app_in_flight", help: "Now").set(to: 3)
        return registry
    }

    @Test("Prometheus text 0.0.4: _total in TYPE, plain numbers, no exemplars, no EOF")
    func prometheusText() {
        let text = MetricsExposition.render(self.sampleRegistry(), format: .prometheusText)
        #expect(text.contains("# TYPE app_requests_total counter\n"))
        #expect(text.contains("# HELP app_requests_total Requests \"served\"\n"))
        #expect(text.contains(#"app_requests_total{route="/v1/messages",status="200"} 2"# + "\n"))
        #expect(text.contains(#"app_tokens_bucket{type="input",le="1048576"} 0"# + "\n"), "no digits lost to %g")
        #expect(text.contains(#"app_tokens_bucket{type="input",le="4194304"} 1"# + "\n"))
        #expect(text.contains(#"app_tokens_bucket{type="input",le="+Inf"} 1"# + "\n"))
        #expect(text.contains("app_tokens_sum{type=\"input\"} 2000000\n"))
        #expect(text.contains("app_in_flight 3\n"))
        #expect(!text.contains("trace_id"))
        #expect(!text.contains("# EOF"))
        #expect(!text.contains("# UNIT"))
    }

    @Test("OpenMetrics 1.0: counters declared without _total, UNIT, exemplars on counters and buckets, # EOF")
    func openMetrics() {
        let text = MetricsExposition.render(self.sampleRegistry(), format: .openMetrics)
        #expect(text.contains("# TYPE app_requests counter\n"))
        #expect(text.contains(#"app_requests_total{route="/v1/messages",status="200"} 2.0 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 1.0 1700000000.5"# + "\n"))
        #expect(text.contains(#"app_tokens_bucket{type="input",le="4194304.0"} 1 # {trace_id="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} 2000000.0 1700000001.0"# + "\n"))
        #expect(text.contains("# UNIT app_duration_seconds seconds\n"))
        #expect(text.contains(#"app_duration_seconds_bucket{le="0.1"} 1"# + "\n"))
        #expect(text.hasSuffix("# EOF\n"))
    }

    @Test("Accept negotiation picks OpenMetrics only when asked")
    func negotiation() {
        let prometheus = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
        #expect(MetricsExposition.Format(accept: prometheus) == .openMetrics)
        #expect(MetricsExposition.Format(accept: "text/plain") == .prometheusText)
        #expect(MetricsExposition.Format(accept: nil) == .prometheusText)
    }

    @Test("label values are escaped")
    func escaping() {
        let registry = MetricsRegistry()
        registry.counter("x", help: "h", labels: ["v"]).increment(["a\"b\\c\nd"])
        #expect(MetricsExposition.render(registry, format: .prometheusText).contains(#"x_total{v="a\"b\\c\nd"} 1"#))
    }

    @Test("swift-metrics handles land in the same registry")
    func factory() {
        let registry = MetricsRegistry()
        let factory = RegistryMetricsFactory(registry: registry)
        let counter = Counter(label: "hb.requests", dimensions: [("http.route", "/x")], factory: factory)
        counter.increment()
        counter.increment(by: 2)
        let timer = CoreMetrics.Timer(label: "hb.request.duration", dimensions: [("http.route", "/x")], factory: factory)
        timer.recordMilliseconds(30)
        let text = MetricsExposition.render(registry, format: .prometheusText)
        #expect(text.contains(#"hb_requests_total{http_route="/x"} 3"#))
        #expect(text.contains(#"hb_request_duration_seconds_bucket{http_route="/x",le="0.05"} 1"#))
        #expect(text.contains(#"hb_request_duration_seconds_bucket{http_route="/x",le="0.025"} 0"#))
    }

    @Test("gzip output is a gzip stream that gunzip reads back")
    func gzip() throws {
        let text = MetricsExposition.render(self.sampleRegistry(), format: .openMetrics)
        let compressed = Gzip.compress(Array(text.utf8))
        #expect(compressed.prefix(2) == [0x1f, 0x8b])
        #expect(compressed.count < text.utf8.count)
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).gz")
        try Data(compressed).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", input.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(String(decoding: output, as: UTF8.self) == text)
    }
}
