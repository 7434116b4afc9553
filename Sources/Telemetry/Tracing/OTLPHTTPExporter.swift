import Foundation
import Logging
import NIOCore
import Upstream

/// Sends batches of spans as OTLP/HTTP protobuf, gzip-compressed unless told otherwise, through the
/// libcurl upstream client.
///
/// Retries only what the protocol allows — 429, 502, 503, 504 and connection failures — with
/// exponential backoff that honours `Retry-After`, within the export timeout. A partial success is
/// logged, not retried.
public struct OTLPHTTPExporter: Sendable {
    public enum Outcome: Sendable, Equatable {
        case exported
        case partiallyExported(rejected: Int64)
        case failed(reason: String)
    }

    let configuration: OTLPExporterConfiguration
    let client: UpstreamClient
    let scope: OTLPTraceEncoder.Scope
    let logger: Logger
    /// The first backoff; doubles per attempt (tests shorten it).
    let initialBackoff: Duration

    public init(
        configuration: OTLPExporterConfiguration,
        client: UpstreamClient,
        scope: OTLPTraceEncoder.Scope,
        logger: Logger,
        initialBackoff: Duration = .milliseconds(500)
    ) {
        self.configuration = configuration
        self.client = client
        self.scope = scope
        self.logger = logger
        self.initialBackoff = initialBackoff
    }

    public func export(_ spans: [SpanData]) async -> Outcome {
        guard let endpoint = self.configuration.endpoint, !spans.isEmpty else { return .exported }
        var body = OTLPTraceEncoder.encode(spans, resource: self.configuration.resource, scope: self.scope)
        var headers: UpstreamHeaders = [
            "content-type": "application/x-protobuf",
            "user-agent": "switchboard/\(self.scope.version) OTel-OTLP-Exporter-Swift",
        ]
        if self.configuration.gzip {
            body = Gzip.compress(body)
            headers.add(name: "content-encoding", value: "gzip")
        }
        for (name, value) in self.configuration.headers { headers.add(name: name, value: value) }
        let request = UpstreamRequest(
            method: "POST",
            url: endpoint,
            headers: headers,
            body: ByteBuffer(bytes: body),
            idleTimeout: self.configuration.exportTimeout
        )

        let deadline = ContinuousClock.now + self.configuration.exportTimeout
        var backoff = self.initialBackoff
        var lastReason = ""
        for attempt in 1...6 {
            var wait = backoff
            do {
                let response = try await self.client.execute(request)
                let answer = try await response.collectBody(upTo: 4 << 20)
                switch response.status {
                case 200..<300:
                    if let partial = OTLPTraceEncoder.partialSuccess(in: Array(answer.readableBytesView)),
                        partial.rejectedSpans > 0 || !partial.message.isEmpty
                    {
                        self.logger.warning("OTLP partial success", metadata: ["rejected_spans": "\(partial.rejectedSpans)", "message": "\(partial.message)"])
                        return .partiallyExported(rejected: partial.rejectedSpans)
                    }
                    return .exported
                case 429, 502, 503, 504:
                    lastReason = "HTTP \(response.status)"
                    if let retryAfter = response.headers["retry-after"].flatMap(Self.retryAfter) { wait = retryAfter }
                default:
                    return .failed(reason: "HTTP \(response.status), not retried")
                }
            } catch {
                lastReason = "\(error)"
            }
            let jittered = wait * Double.random(in: 0.9...1.1)
            guard attempt < 6, ContinuousClock.now + jittered < deadline else { break }
            try? await Task.sleep(for: jittered)
            backoff *= 2
        }
        return .failed(reason: lastReason)
    }

    /// The longest `Retry-After` honoured; a longer one (a hostile or broken collector's `1e300`) is cut to it.
    /// Any wait beyond the export timeout ends the export anyway.
    static let maximumRetryAfter: Duration = .seconds(600)

    /// `Retry-After` as RFC 9110 writes it: whole seconds (ASCII digits only), or an HTTP date; at most
    /// ``maximumRetryAfter``. Nil for anything else (`inf`, `-1`, `1.5`, `nan`), which leaves the backoff as it was.
    static func retryAfter(_ value: String) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        let maximum = Self.maximumRetryAfter.components.seconds
        if !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            // Too many digits for an Int is longer than the maximum too.
            return .seconds(min(Int64(text) ?? maximum, maximum))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        let seconds = min(max(0, date.timeIntervalSinceNow), Double(maximum))
        return .milliseconds(Int64(seconds * 1000))
    }
}
