import ArgumentParser
import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle
import Switchboard
import Telemetry
import Tracing
import Upstream

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway."
    )

    @Option(name: .long, help: "A LiteLLM-style YAML configuration. Without it, the embedded default (mock models).")
    var config: String?

    @Option(name: .long, help: "Address to listen on (default 127.0.0.1, or switchboard.host in the config).")
    var host: String?

    @Option(name: .long, help: "Port to listen on (default 4000, or switchboard.port in the config).")
    var port: Int?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (default: LOG_LEVEL, else info).")
    var logLevel: String?

    @Flag(
        name: .long,
        help: "Serve on a non-loopback address without a master key (switchboard.allow_unauthenticated in the config)."
    )
    var allowUnauthenticated = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let level = try LogLevelOption.resolve(self.logLevel ?? environment["LOG_LEVEL"])
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        let logger = Logger(label: "switchboard")

        let (loaded, notice): (ConfigurationLoader.Result, String?)
        do {
            (loaded, notice) = try ConfigurationSource(path: self.config).load(environment: environment)
        } catch let error as ConfigurationError {
            throw ValidationError("configuration: \(error)")
        }
        for warning in loaded.warnings { logger.warning("configuration: \(warning)") }
        if let notice { logger.notice("\(notice)") }
        for vertex in Set(loaded.configuration.deployments.compactMap(\.vertex)) {
            logger.notice(
                "vertex_ai credentials",
                metadata: [
                    "project": "\(vertex.project ?? "from the metadata server")",
                    "location": "\(vertex.location)",
                    "credentials": "\(vertex.credentials.typeName)",
                    "source": "\(vertex.credentials.source.description)",
                ]
            )
        }

        var configuration = loaded.configuration
        if let host = self.host { configuration.server.host = host }
        if let port = self.port { configuration.server.port = port }
        if self.allowUnauthenticated { configuration.server.allowUnauthenticated = true }
        // Thrown as is, it reaches stderr as `Error: refusing to listen …` with exit code 1 (no usage text: the
        // command line parsed fine; what it would expose is the problem).
        if let warning = try ListenAddressPolicy.check(
            host: configuration.server.host,
            masterKey: configuration.masterKey,
            allowUnauthenticated: configuration.server.allowUnauthenticated
        ) {
            logger.warning("\(warning)")
        }

        let prices: PriceTable
        do {
            let (table, path) = try PriceTableSource(
                configuredPath: configuration.server.priceTablePath,
                configurationPath: self.config
            ).load()
            prices = table
            if let path {
                logger.info("price table loaded", metadata: ["path": "\(path)"])
            } else {
                logger.warning("no price table found (config/prices.yaml): costs count as 0 and as unpriced requests")
            }
        } catch let error as ConfigurationError {
            throw ValidationError("price table: \(error)")
        }
        let registry = MetricsRegistry()
        MetricsSystem.bootstrap(RegistryMetricsFactory(registry: registry))
        // Which replica this is, for dashboards over several (Prometheus adds its own `instance` too).
        let instanceID = configuration.server.resolvedInstanceID
        registry.gauge("switchboard_instance_info", help: "This replica's switchboard.instance_id; always 1.", labels: ["instance_id"])
            .set([instanceID], to: 1)

        let upstream = UpstreamClient(
            configuration: .init(
                connectTimeout: configuration.server.upstreamConnectTimeout,
                idleTimeout: configuration.server.upstreamIdleTimeout
            )
        )
        // Traces: OTEL_* variables, with the YAML's endpoint on top; export only when an endpoint is named.
        var tracing = OTLPExporterConfiguration(environment: environment, serviceVersion: SwitchboardVersion.current)
        if let endpoint = configuration.server.tracesEndpoint { tracing.endpoint = endpoint }
        tracing.resource["service.instance.id"] = tracing.resource["service.instance.id"] ?? .string(instanceID)
        let capture = configuration.server.captureMessageContent
            || ["true", "span_only", "span_and_event"].contains((environment["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] ?? "").lowercased())
        let exporter = OTLPHTTPExporter(
            configuration: tracing,
            client: upstream,
            scope: .init(name: "switchboard", version: SwitchboardVersion.current),
            logger: Logger(label: "switchboard.otlp")
        )
        let processor = BatchSpanProcessor(configuration: tracing, registry: registry) { await exporter.export($0) }
        InstrumentationSystem.bootstrap(SwitchboardTracer(record: processor.onEnd))
        if let endpoint = tracing.endpoint {
            logger.notice("exporting traces", metadata: ["endpoint": "\(endpoint)", "capture_message_content": "\(capture)"])
        }

        // Opened (created and migrated when new) before serving: a database that cannot open stops the start.
        if configuration.databasePath != nil, let directory = configuration.governance.stateDirectory {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let keys = try await KeyDirectory.open(configuration, instanceID: instanceID, logger: Logger(label: "switchboard.store"))
        switch configuration.database {
        case .sqlite(let path)?: logger.notice("virtual keys from \(path)")
        case .postgres(let url)?:
            logger.notice("virtual keys from \(url.redacted)", metadata: ["on_store_failure": "\(configuration.governance.onStoreFailure.rawValue)"])
        case nil: break
        }
        let gateway = Gateway(
            configuration: configuration,
            upstream: upstream,
            observers: [
                AccessLog(logger: Logger(label: "switchboard.access"))
            ],
            logger: logger,
            metricsRegistry: registry,
            prices: prices,
            spans: tracing.endpoint == nil ? nil : processor.onEnd,
            captureContent: capture,
            keys: keys
        )
        try await gateway.applyGovernance(configuration)
        let source = ConfigurationSource(path: self.config)
        gateway.configurationLoaded(sha256: (try? source.contents.sha256) ?? "")
        var services: [any Service] = [SpanProcessorService(processor: processor)]
        if let keys {
            services.append(SpendFlushService(keys: keys, logger: logger, retentionDays: configuration.governance.spendLogRetentionDays))
        }
        if self.config != nil {
            services.append(ConfigurationWatcher(source: source, environment: environment, gateway: gateway, logger: logger))
        }
        let address = "\(configuration.server.host):\(configuration.server.port)"
        let models = configuration.deployments.count
        let application = gateway.makeApplication(services: services) { _ in
            logger.notice("listening", metadata: ["address": "\(address)", "models": "\(models)", "curl": "\(UpstreamClient.curlVersion)"])
        }

        var groupConfiguration = ServiceGroupConfiguration(
            services: [application],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.server.gracefulShutdown
        do {
            try await ServiceGroup(configuration: groupConfiguration).run()
        } catch {
            // Past the grace period the group cancels what still runs; a requested stop is still a clean exit.
            logger.warning("stopped with requests still running after the grace period", metadata: ["error": "\(error)"])
        }
        logger.notice("stopped")
    }
}

enum LogLevelOption {
    static func resolve(_ text: String?) throws -> Logger.Level {
        guard let text, !text.isEmpty else { return .info }
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ValidationError("log level \"\(text)\": expected trace, debug, info, notice, warning, error or critical")
        }
        return level
    }
}
