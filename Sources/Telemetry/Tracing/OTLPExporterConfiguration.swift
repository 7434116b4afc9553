import Foundation

/// Where and how spans are exported, from the standard `OTEL_*` variables (and the YAML, which the
/// caller applies on top).
public struct OTLPExporterConfiguration: Sendable, Equatable {
    /// The full traces URL, such as `http://127.0.0.1:4318/v1/traces`; nil when tracing export is off.
    public var endpoint: String?
    public var headers: [String: String]
    public var gzip: Bool
    /// How long one export (with its retries) may take.
    public var exportTimeout: Duration
    public var scheduleDelay: Duration
    public var maxQueueSize: Int
    public var maxExportBatchSize: Int
    public var resource: [String: AttributeValue]

    public init(
        endpoint: String? = nil,
        headers: [String: String] = [:],
        gzip: Bool = true,
        exportTimeout: Duration = .seconds(30),
        scheduleDelay: Duration = .seconds(5),
        maxQueueSize: Int = 2048,
        maxExportBatchSize: Int = 512,
        resource: [String: AttributeValue] = ["service.name": "switchboard"]
    ) {
        self.endpoint = endpoint
        self.headers = headers
        self.gzip = gzip
        self.exportTimeout = exportTimeout
        self.scheduleDelay = scheduleDelay
        self.maxQueueSize = maxQueueSize
        self.maxExportBatchSize = min(maxExportBatchSize, maxQueueSize)
        self.resource = resource
    }

    /// The configuration the OpenTelemetry environment variables describe. Export is on when an
    /// endpoint is named (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` +
    /// `/v1/traces`) and off with `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`.
    public init(environment: [String: String], serviceVersion: String) {
        func value(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0]?.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        }
        /// A positive whole number; anything else (0, negative, too large for an Int) is the default.
        func positive(_ name: String, default fallback: Int) -> Int {
            value(name).flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? fallback
        }
        func milliseconds(_ name: String, default fallback: Int) -> Duration {
            .milliseconds(positive(name, default: fallback))
        }
        var endpoint = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        if endpoint == nil, let base = value("OTEL_EXPORTER_OTLP_ENDPOINT") {
            endpoint = (base.hasSuffix("/") ? base : base + "/") + "v1/traces"
        }
        if value("OTEL_TRACES_EXPORTER") == "none" || value("OTEL_SDK_DISABLED")?.lowercased() == "true" {
            endpoint = nil
        }
        var resource = Self.keyValues(value("OTEL_RESOURCE_ATTRIBUTES") ?? "").mapValues { AttributeValue.string($0) }
        resource["service.name"] = .string(value("OTEL_SERVICE_NAME") ?? resource["service.name"].flatMap {
            if case .string(let name) = $0 { name } else { nil }
        } ?? "switchboard")
        resource["service.version"] = resource["service.version"] ?? .string(serviceVersion)
        resource["telemetry.sdk.name"] = "switchboard"
        resource["telemetry.sdk.language"] = "swift"
        self.init(
            endpoint: endpoint,
            headers: Self.keyValues(value("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS") ?? ""),
            gzip: (value("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION") ?? "gzip") != "none",
            exportTimeout: milliseconds("OTEL_BSP_EXPORT_TIMEOUT", default: 30_000),
            scheduleDelay: milliseconds("OTEL_BSP_SCHEDULE_DELAY", default: 5000),
            maxQueueSize: positive("OTEL_BSP_MAX_QUEUE_SIZE", default: 2048),
            maxExportBatchSize: positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", default: 512),
            resource: resource
        )
    }

    /// `key1=value1,key2=value2`, percent-decoded (W3C Baggage style, as OTEL_*_HEADERS and
    /// OTEL_RESOURCE_ATTRIBUTES are written). A malformed member is skipped.
    static func keyValues(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for member in text.split(separator: ",") {
            let parts = member.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, let decoded = value.removingPercentEncoding else { continue }
            result[key.removingPercentEncoding ?? key] = decoded
        }
        return result
    }
}
