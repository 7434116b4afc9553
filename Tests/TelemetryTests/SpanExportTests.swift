import Foundation
import Logging
import NIOCore
import Synchronization
import SwitchboardTesting
import Testing
import Upstream

@testable import Telemetry

@Suite("Batching and exporting spans")
struct SpanExportTests {
    static func span(_ index: Int) -> SpanData {
        SpanData(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: String(format: "%016x", index + 1), name: "s\(index)", kind: .server, startUnixNano: 1, endUnixNano: 2)
    }

    /// Records every batch handed to it.
    final class Batches: Sendable {
        let batches = Mutex<[[SpanData]]>([])
        var sizes: [Int] { self.batches.withLock { $0.map(\.count) } }
        func record(_ batch: [SpanData]) -> OTLPHTTPExporter.Outcome {
            self.batches.withLock { $0.append(batch) }
            return .exported
        }
    }

    @Test("a full batch goes out at once; the rest waits for the delay or for shutdown, which flushes it")
    func batchingBySizeAndFlush() async throws {
        let batches = Batches()
        let registry = MetricsRegistry()
        let processor = BatchSpanProcessor(
            configuration: .init(scheduleDelay: .seconds(30), maxQueueSize: 100, maxExportBatchSize: 3),
            registry: registry
        ) { batches.record($0) }
        let loop = Task { await processor.run() }
        for index in 0..<7 { processor.onEnd(Self.span(index)) }
        var waited = 0
        while batches.sizes.reduce(0, +) < 6, waited < 200 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(batches.sizes == [3, 3])
        #expect(processor.queuedCount == 1)
        await processor.shutdown()
        await loop.value
        #expect(batches.sizes == [3, 3, 1])
        #expect(registry.family(named: "switchboard_spans_exported")?.value() == 7)
    }

    @Test("spans that do not fill a batch go out when the delay passes")
    func batchingByTime() async throws {
        let batches = Batches()
        let processor = BatchSpanProcessor(configuration: .init(scheduleDelay: .milliseconds(200), maxExportBatchSize: 512), registry: nil) { batches.record($0) }
        let loop = Task { await processor.run() }
        processor.onEnd(Self.span(0))
        processor.onEnd(Self.span(1))
        try await Task.sleep(for: .milliseconds(50))
        #expect(batches.sizes.isEmpty)
        var waited = 0
        while batches.sizes.isEmpty, waited < 300 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(batches.sizes == [2])
        await processor.shutdown()
        await loop.value
    }

    @Test("a full queue drops spans and counts them; the request path never waits")
    func dropWhenFull() {
        let registry = MetricsRegistry()
        let processor = BatchSpanProcessor(configuration: .init(maxQueueSize: 4, maxExportBatchSize: 4), registry: registry) { _ in .exported }
        for index in 0..<10 { processor.onEnd(Self.span(index)) }  // nobody runs the loop: nothing drains
        #expect(processor.queuedCount == 4)
        #expect(registry.family(named: "switchboard_spans_dropped")?.value() == 6)
    }

    static func exporter(_ server: ScriptedHTTPServer, client: UpstreamClient, timeout: Duration = .seconds(10)) -> OTLPHTTPExporter {
        OTLPHTTPExporter(
            configuration: .init(endpoint: "\(server.baseURL)/v1/traces", headers: ["x-tenant": "t1"], exportTimeout: timeout),
            client: client,
            scope: .init(name: "switchboard", version: "test"),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            initialBackoff: .milliseconds(50)
        )
    }

    @Test("503 with Retry-After is retried after that wait; the body is gzip protobuf with the configured headers")
    func retryOn503() async throws {
        let attempts = Mutex<[(ContinuousClock.Instant, ScriptedHTTPServer.Request)]>([])
        let server = try await ScriptedHTTPServer.start { request, writer in
            let count = attempts.withLock { $0.append((.now, request)); return $0.count }
            if count == 1 {
                try await writer.respond(status: 503, headers: [("retry-after", "1")], body: "")
            } else {
                try await writer.respond(status: 200, headers: [("content-type", "application/x-protobuf")], body: "")
            }
        }
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let outcome = await Self.exporter(server, client: client).export([Self.span(0)])
        #expect(outcome == .exported)
        let recorded = attempts.withLock { $0 }
        #expect(recorded.count == 2)
        #expect(recorded[1].0 - recorded[0].0 >= .milliseconds(900), "Retry-After: 1 is honoured")
        let request = recorded[1].1
        #expect(request.path == "/v1/traces")
        #expect(request.header("content-type") == "application/x-protobuf")
        #expect(request.header("content-encoding") == "gzip")
        #expect(request.header("x-tenant") == "t1")
        #expect(Array(request.body.readableBytesView.prefix(2)) == [0x1f, 0x8b])
        await client.shutdown()
        await server.stop()
    }

    @Test("400 is not retried")
    func noRetryOn400() async throws {
        let count = Mutex(0)
        let server = try await ScriptedHTTPServer.start { _, writer in
            count.withLock { $0 += 1 }
            try await writer.respond(status: 400, body: "bad")
        }
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let outcome = await Self.exporter(server, client: client).export([Self.span(0)])
        #expect(outcome == .failed(reason: "HTTP 400, not retried"))
        #expect(count.withLock { $0 } == 1)
        await client.shutdown()
        await server.stop()
    }

    @Test("a hostile Retry-After (inf, 1e300, huge, negative, NaN) neither traps nor stalls the export")
    func hostileRetryAfter() async throws {
        // Before the fix each of the first three trapped on an Int64 conversion, taking the process down.
        for value in ["inf", "1e300", "-inf", "nan", "-1", "1.5", "\u{FF15}", "0x10"] {
            #expect(OTLPHTTPExporter.retryAfter(value) == nil, "\(value): the backoff stands")
        }
        #expect(OTLPHTTPExporter.retryAfter("99999999999999999999999") == OTLPHTTPExporter.maximumRetryAfter)
        #expect(OTLPHTTPExporter.retryAfter("86400") == OTLPHTTPExporter.maximumRetryAfter)
        #expect(OTLPHTTPExporter.retryAfter(" 7 ") == .seconds(7))
        #expect(OTLPHTTPExporter.retryAfter("Fri, 31 Dec 9999 23:59:59 GMT") == OTLPHTTPExporter.maximumRetryAfter)

        let answers = Mutex(["inf", "1e300"])
        let server = try await ScriptedHTTPServer.start { _, writer in
            if let next = answers.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                try await writer.respond(status: 503, headers: [("retry-after", next)], body: "")
            } else {
                try await writer.respond(status: 200, headers: [("content-type", "application/x-protobuf")], body: "")
            }
        }
        let client = UpstreamClient(configuration: .init(proxy: .none))
        let started = ContinuousClock.now
        #expect(await Self.exporter(server, client: client).export([Self.span(0)]) == .exported)
        #expect(ContinuousClock.now - started < .seconds(5), "unusable Retry-After values fall back to the backoff")

        // A wait longer than the export timeout gives up at once instead of sleeping.
        let patient = try await ScriptedHTTPServer.start { _, writer in
            try await writer.respond(status: 429, headers: [("retry-after", "99999999999999999999999")], body: "")
        }
        let giveUp = ContinuousClock.now
        let outcome = await Self.exporter(patient, client: client, timeout: .seconds(5)).export([Self.span(0)])
        #expect(outcome == .failed(reason: "HTTP 429"))
        #expect(ContinuousClock.now - giveUp < .seconds(2))
        await client.shutdown()
        await server.stop()
        await patient.stop()
    }

    @Test("a partial success is reported, not retried")
    func partialSuccess() async throws {
        let count = Mutex(0)
        let server = try await ScriptedHTTPServer.start { _, writer in
            count.withLock { $0 += 1 }
            let body = ByteBuffer(bytes: [0x0A, 0x07, 0x08, 0x01, 0x12, 0x03, 0x62, 0x61, 0x64])
            try await writer.writeHead(status: 200, headers: [("content-length", "9")])
            try await writer.writeBody(body)
            try await writer.end()
        }
        let client = UpstreamClient(configuration: .init(proxy: .none))
        #expect(await Self.exporter(server, client: client).export([Self.span(0)]) == .partiallyExported(rejected: 1))
        #expect(count.withLock { $0 } == 1)
        await client.shutdown()
        await server.stop()
    }

    @Test("OTEL_* variables configure the exporter")
    func environment() {
        let configuration = OTLPExporterConfiguration(
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/base",
                "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20x,tenant=a",
                "OTEL_EXPORTER_OTLP_COMPRESSION": "none",
                "OTEL_SERVICE_NAME": "gw",
                "OTEL_RESOURCE_ATTRIBUTES": "service.name=ignored,deployment.environment=prod",
                "OTEL_BSP_SCHEDULE_DELAY": "1000",
                "OTEL_BSP_MAX_QUEUE_SIZE": "100",
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "500",
                "OTEL_BSP_EXPORT_TIMEOUT": "2000",
            ],
            serviceVersion: "1.2.3"
        )
        #expect(configuration.endpoint == "http://collector:4318/base/v1/traces")
        #expect(configuration.headers == ["authorization": "Bearer x", "tenant": "a"])
        #expect(!configuration.gzip)
        #expect(configuration.resource["service.name"] == "gw")
        #expect(configuration.resource["deployment.environment"] == "prod")
        #expect(configuration.resource["service.version"] == "1.2.3")
        #expect(configuration.scheduleDelay == .seconds(1))
        #expect(configuration.maxQueueSize == 100)
        #expect(configuration.maxExportBatchSize == 100, "a batch is never larger than the queue")
        #expect(configuration.exportTimeout == .seconds(2))

        let traces = OTLPExporterConfiguration(environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://x:1/custom"], serviceVersion: "v")
        #expect(traces.endpoint == "http://x:1/custom")
        #expect(traces.gzip)
        #expect(traces.resource["service.name"] == "switchboard")
        #expect(OTLPExporterConfiguration(environment: [:], serviceVersion: "v").endpoint == nil)
        #expect(OTLPExporterConfiguration(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_TRACES_EXPORTER": "none"], serviceVersion: "v").endpoint == nil)

        // Zero, negative or huge numbers are not usable; each falls back to its default. (A batch size of 0 used
        // to make the export loop spin: a batch of none was always "full".)
        let hostile = OTLPExporterConfiguration(
            environment: [
                "OTEL_BSP_SCHEDULE_DELAY": "-5",
                "OTEL_BSP_MAX_QUEUE_SIZE": "0",
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0",
                "OTEL_BSP_EXPORT_TIMEOUT": "99999999999999999999999",
            ],
            serviceVersion: "v"
        )
        #expect(hostile.scheduleDelay == .seconds(5))
        #expect(hostile.maxQueueSize == 2048)
        #expect(hostile.maxExportBatchSize == 512)
        #expect(hostile.exportTimeout == .seconds(30))
    }
}
