import Logging

/// Writes one log line per finished request: id, trace id, session, method, route, model, provider,
/// status, duration, and a virtual key's alias (else its `sk-...abcd` name) and team, or why it was
/// refused. Never a key, a token, or message content. Excluded routes (health probes and
/// scrapes, by default; ``ExchangeRecord/isExcluded``) write none.
public struct AccessLog: ExchangeObserver {
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func exchangeDidFinish(_ record: ExchangeRecord) {
        guard self.logger.logLevel <= .info else { return }  // not even the metadata when nobody logs it
        guard !record.isExcluded else { return }
        var metadata: Logger.Metadata = [
            "request_id": .string(record.requestID),
            // Also for an unsampled trace: upstreams that log the traceparent share it.
            "trace_id": .string(record.trace.traceID),
            "method": .string(record.method),
            "route": .string(record.route),
            "status": .stringConvertible(record.status),
        ]
        if let session = record.sessionID { metadata["session_id"] = .string(session) }
        if let seconds = record.seconds(from: .received, to: .finished) {
            metadata["duration_ms"] = .stringConvertible((seconds * 1_000_000).rounded() / 1000)
        }
        if let model = record.requestedModel { metadata["model"] = .string(model) }
        if let provider = record.provider { metadata["provider"] = .string(provider.rawValue) }
        if let upstream = record.upstreamModel { metadata["upstream_model"] = .string(upstream) }
        if record.route.hasPrefix("/v1/messages") || record.route.hasPrefix("/anthropic") {
            metadata["stream"] = .stringConvertible(record.isStreaming)
        }
        if let error = record.errorType { metadata["error_type"] = .string(error) }
        if let answered = record.upstreamAttempts.last?.target.deployment {
            metadata["deployment"] = .string(answered)
            metadata["attempts"] = .stringConvertible(record.upstreamAttempts.count)
            let chain = record.fallbackChain
            if chain.count > 1 { metadata["fallback_chain"] = .string(chain.joined(separator: ">")) }
        }
        var key = record.virtualKey?.label
        switch record.keyRefusal {
        case .authentication(let reason)?: metadata["key_refused"] = .string(reason)
        case .limit(let scope, let kind, let refused)?:
            metadata["key_refused"] = .string("\(scope)_\(kind)")
            key = key ?? refused
        case nil: break
        }
        if let key {
            metadata["key_alias"] = .string(key.alias)
            if let team = key.teamID { metadata["team_id"] = .string(team) }
        }
        if record.clientDisconnected { metadata["client_disconnected"] = .stringConvertible(true) }
        self.logger.info("request", metadata: metadata)
    }
}
