import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Switchboard
import Synchronization
import Telemetry
import Upstream

/// A gateway built from YAML, with its finished exchanges captured, for tests through the router.
/// Its upstream client shuts down when the harness goes away.
final class GatewayHarness: Sendable {
    let gateway: Gateway
    let recorder = ExchangeRecorder()

    let registry = MetricsRegistry()

    init(
        yaml: String,
        environment: [String: String] = [:],
        prices: PriceTable = PriceTable(),
        captureContent: Bool = false,
        googleTokenEndpoint: String = GoogleCredentials.defaultTokenURI,
        keys: KeyDirectory? = nil,
        spans: (@Sendable (SpanData) -> Void)? = nil
    ) throws {
        var configuration = try ConfigurationLoader(environment: environment).load(yaml: yaml).configuration
        // A test of what one attempt does sees that attempt alone; tests of retries say num_retries.
        if !yaml.contains("num_retries") { configuration.router.numRetries = 0 }
        self.gateway = Gateway(
            configuration: configuration,
            upstream: UpstreamClient(configuration: .init(idleTimeout: .seconds(5), proxy: .none)),
            observers: [self.recorder],
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            metricsRegistry: self.registry,
            prices: prices,
            spans: spans,
            captureContent: captureContent,
            googleTokenEndpoint: googleTokenEndpoint,
            keys: keys
        )
    }

    /// Runs `body` against the gateway's own application (its server, channel handlers and services)
    /// listening on a real socket; it gets the port.
    func testLive<Value>(_ body: @escaping @Sendable (Int) async throws -> Value) async throws -> Value {
        try await self.gateway.makeApplication().test(.live) { client in
            try await body(client.port!)
        }
    }

    /// A counter's or gauge's value, or a histogram's count; 0 when the series never was.
    func metric(_ name: String, _ labels: [String] = []) -> Double {
        self.registry.family(named: name)?.value(labels) ?? 0
    }

    deinit {
        let upstream = self.gateway.upstream
        Task { await upstream.shutdown() }
    }

    /// Runs `body` against the router in-process.
    func test<Value>(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await Application(router: self.gateway.makeRouter()).test(.router, body)
    }
}

/// Keeps every finished exchange.
final class ExchangeRecorder: ExchangeObserver {
    private let records = Mutex<[ExchangeRecord]>([])

    func exchangeDidFinish(_ record: ExchangeRecord) {
        self.records.withLock { $0.append(record) }
    }

    var all: [ExchangeRecord] { self.records.withLock { $0 } }
}

extension TestClientProtocol {
    /// POSTs JSON text to `uri`.
    func post(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return try await self.execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: json))
    }
}

extension TestResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(self.body.readableBytesView))) as? [String: Any] ?? [:]
    }

    /// The body as a JSON array (`/team/list`, `/spend/logs`, `/global/spend/report`).
    var jsonArray: [Any]? {
        (try? JSONSerialization.jsonObject(with: Data(self.body.readableBytesView))) as? [Any]
    }

    var errorType: String? { (self.json["error"] as? [String: Any])?["type"] as? String }
    var errorMessage: String? { (self.json["error"] as? [String: Any])?["message"] as? String }

    /// The SSE events of the body: (event name, data JSON).
    var events: [(name: String, data: [String: Any])] {
        String(buffer: self.body).components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n")
            guard let name = lines.first(where: { $0.hasPrefix("event: ") })?.dropFirst(7),
                let data = lines.first(where: { $0.hasPrefix("data: ") })?.dropFirst(6),
                let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]
            else { return nil }
            return (String(name), object)
        }
    }
}
