import Foundation
import Synchronization
import Telemetry

/// The one record of a request's life. Stages write to it as the request passes; when the response
/// has been written (or the client has gone), the finished ``ExchangeRecord`` goes to every observer:
/// the access log, metrics, traces.
public final class Exchange: Sendable {
    private let state: Mutex<ExchangeRecord>

    public init(record: ExchangeRecord) {
        self.state = Mutex(record)
    }

    /// Changes the record under its lock, returning whatever `change` returns.
    @discardableResult
    public func update<Value>(_ change: (inout ExchangeRecord) -> Value) -> Value {
        self.state.withLock { change(&$0) }
    }

    /// Opens a new upstream attempt (a CLIENT span) to `url` on `target` and returns the `traceparent` to
    /// send with it.
    public func beginUpstreamAttempt(url: String, target: AttemptTarget) -> String {
        self.state.withLock { record in
            let span = record.trace.child()
            record.upstreamAttempts.append(UpstreamAttempt(span: span, url: url, start: .now, target: target))
            return span.traceparent
        }
    }

    /// Records how the current upstream attempt failed (`connection_refused`, `http_429`, `stream_broken`,
    /// `malformed_call`, …). Only the call stage and the stream readers it hands answers to call this.
    public func failAttempt(_ kind: String) {
        self.state.withLock { record in
            guard !record.upstreamAttempts.isEmpty else { return }
            record.upstreamAttempts[record.upstreamAttempts.count - 1].failure = kind
        }
    }

    /// Records `kind` as the current attempt's failure unless a reader already said why it failed.
    public func failAttemptUnlessFailed(_ kind: String) {
        self.state.withLock { record in
            guard let last = record.upstreamAttempts.indices.last, record.upstreamAttempts[last].failure == nil else { return }
            record.upstreamAttempts[last].failure = kind
        }
    }

    /// Stamps `moment` with the current time, unless it was stamped before.
    public func mark(_ moment: ExchangeRecord.Moment) {
        let now = ContinuousClock.now
        self.state.withLock { record in
            if record.timings[moment] == nil { record.timings[moment] = now }
        }
    }

    /// A copy of the record as it stands.
    public var record: ExchangeRecord { self.state.withLock { $0 } }
}

/// What happened to one request. Plain data: copy it freely.
public struct ExchangeRecord: Sendable {
    /// Points in a request's life, in the order they normally happen.
    public enum Moment: Sendable, Hashable, CaseIterable {
        case received, decoded, upstreamRequestSent, firstUpstreamByte, firstToken, upstreamFinished, finished
    }

    public let requestID: String
    public var method: String
    /// The route's template (`/v1/messages`), never the raw path: safe as a label.
    public var route: String
    public var timings: [Moment: ContinuousClock.Instant]
    /// When the request arrived, in seconds since the Unix epoch (for exemplars and spans).
    public let startTime: Double
    /// The trace this request belongs to (continued from `traceparent`, or new).
    public var trace: TraceContext

    public var requestedModel: String?
    public var provider: ProviderKind?
    public var upstreamModel: String?
    public var isStreaming = false

    public var status = 0
    public var usage = AnthropicUsage()
    /// Output tokens spent thinking (already inside `usage.outputTokens`), when the provider says.
    public var thinkingTokens = 0
    /// Estimated cost in USD, from the price table; 0 when the model has no price.
    public var costUSD = 0.0
    /// False when the model had no price, so `costUSD` is not an estimate but a gap.
    public var isPriced = true
    public var stopReason: String?
    /// An Anthropic error type, or the upstream failure's kind, when the request failed.
    public var errorType: String?
    /// What went wrong upstream, when the attempt that decided the answer failed (`connection_refused`,
    /// `http_429`, …); earlier attempts' failures are on ``upstreamAttempts``.
    public var upstreamError: String? { self.upstreamAttempts.last?.failure }
    /// An excluded route (`switchboard.excluded_routes`: scrapes and probes by default), decided once when
    /// the request arrives: no span, no exemplar, no access-log line.
    public var isExcluded = false
    /// The client hung up before the response was complete.
    public var clientDisconnected = false
    /// What translation had to change, drop or guess.
    public var translationEvents: [TranslationEvent] = []
    /// Each call to the upstream: a CLIENT span.
    public var upstreamAttempts: [UpstreamAttempt] = []
    /// The model group the request was routed to first (its `model_name`).
    public var modelGroup: String?
    /// What the router did after failed attempts, in order: retries and fallbacks.
    public var routingDecisions: [RoutingDecision] = []
    /// Time spent waiting between attempts (backoff, `Retry-After`).
    public var backoff: Duration = .zero

    /// The model groups attempts went to, in order, each once: the first is the group routed to, the
    /// others the fallbacks taken.
    public var fallbackChain: [String] {
        var chain: [String] = []
        for attempt in self.upstreamAttempts where chain.last != attempt.target.modelGroup {
            chain.append(attempt.target.modelGroup)
        }
        return chain
    }
    /// The virtual key the request came with; nil for the master key or a gateway without keys.
    public var virtualKey: KeyIdentity?
    /// Why its key was refused, when it was.
    public var keyRefusal: KeyRefusal.Kind?
    /// The Claude Code session (header `X-Claude-Code-Session-Id`, else `metadata.user_id`).
    public var sessionID: String?
    /// The client's `User-Agent`.
    public var userAgent: String?
    /// Request parameters spans report.
    public var maxTokens: Int?
    public var temperature: Double?
    /// The response's message id.
    public var responseID: String?
    /// Tool calls the response made, by name, in order.
    public var toolCalls: [(id: String, name: String)] = []
    /// Message content for spans, only when capture is on (OTel's gen_ai.input/output.messages JSON).
    public var capturedInput: String?
    public var capturedOutput: String?

    public init(
        requestID: String,
        method: String,
        route: String,
        receivedAt: ContinuousClock.Instant = .now,
        trace: TraceContext = TraceContext()
    ) {
        self.requestID = requestID
        self.method = method
        self.route = route
        self.timings = [.received: receivedAt]
        self.startTime = Date().timeIntervalSince1970
        self.trace = trace
    }

    /// Seconds from `start` to `end`, when both happened.
    public func seconds(from start: Moment, to end: Moment) -> Double? {
        guard let from = self.timings[start], let to = self.timings[end] else { return nil }
        return (to - from).seconds
    }
}

/// One call to an upstream, traced as a CLIENT span.
public struct UpstreamAttempt: Sendable {
    public var span: TraceContext
    public var url: String
    public var start: ContinuousClock.Instant
    /// The deployment the attempt went to.
    public var target: AttemptTarget
    /// How the attempt failed, when it did.
    public var failure: String?
    /// What the router did about the failure: `retried`, `fell_back` or `gave_up`.
    public var decision: String?

    /// Host and port of `url`, for `server.address` / `server.port`; nil for in-process providers.
    public var server: (address: String, port: Int)? {
        guard let components = URLComponents(string: self.url), let host = components.host else { return nil }
        return (host, components.port ?? (components.scheme == "https" ? 443 : 80))
    }
}

/// The deployment one attempt goes to, as spans, metrics and logs name it.
public struct AttemptTarget: Sendable {
    public var modelGroup: String
    /// ``ModelDeployment/name``.
    public var deployment: String
    public var provider: ProviderKind
    public var upstreamModel: String

    public init(modelGroup: String, deployment: String, provider: ProviderKind, upstreamModel: String) {
        self.modelGroup = modelGroup
        self.deployment = deployment
        self.provider = provider
        self.upstreamModel = upstreamModel
    }
}

/// A step the router took after an attempt failed.
public enum RoutingDecision: Sendable, Equatable {
    /// Another attempt in `group`, because of a failure of class `reason`.
    case retry(group: String, reason: FailureClass)
    /// On to the group `to`, because `from` failed with `reason` (or had no deployment available).
    case fallback(from: String, to: String, reason: FailureClass)
}

/// Completes a finished record before observers read it (pricing is one). Stages run in order.
public protocol ExchangeStage: Sendable {
    func complete(_ record: inout ExchangeRecord)
}

/// Hears about every finished exchange. Implementations must be quick: they run on the request's task.
public protocol ExchangeObserver: Sendable {
    func exchangeDidFinish(_ record: ExchangeRecord)
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }
}
