import Synchronization

/// The one record of a request's life. Stages write to it as the request passes; when the response
/// has been written (or the client has gone), the finished ``ExchangeRecord`` goes to every observer:
/// the access log, metrics, traces.
public final class Exchange: Sendable {
    private let state: Mutex<ExchangeRecord>

    public init(record: ExchangeRecord) {
        self.state = Mutex(record)
    }

    /// Changes the record under its lock.
    public func update(_ change: (inout ExchangeRecord) -> Void) {
        self.state.withLock { change(&$0) }
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
        case received, decoded, upstreamRequestSent, firstUpstreamByte, firstToken, finished
    }

    public let requestID: String
    public var method: String
    /// The route's template (`/v1/messages`), never the raw path: safe as a label.
    public var route: String
    public var timings: [Moment: ContinuousClock.Instant]

    public var requestedModel: String?
    public var provider: ProviderKind?
    public var upstreamModel: String?
    public var isStreaming = false

    public var status = 0
    public var usage = AnthropicUsage()
    public var stopReason: String?
    /// An Anthropic error type, or the upstream failure's kind, when the request failed.
    public var errorType: String?
    /// The client hung up before the response was complete.
    public var clientDisconnected = false
    /// What translation had to change, drop or guess.
    public var translationEvents: [TranslationEvent] = []

    public init(requestID: String, method: String, route: String, receivedAt: ContinuousClock.Instant = .now) {
        self.requestID = requestID
        self.method = method
        self.route = route
        self.timings = [.received: receivedAt]
    }

    /// Time from `start` to `end`, when both happened.
    public func duration(from start: Moment, to end: Moment) -> Duration? {
        guard let from = self.timings[start], let to = self.timings[end] else { return nil }
        return to - from
    }
}

/// Hears about every finished exchange. Implementations must be quick: they run on the request's task.
public protocol ExchangeObserver: Sendable {
    func exchangeDidFinish(_ record: ExchangeRecord)
}
