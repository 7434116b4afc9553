/// A finished span, as plain data: what the batch processor queues and the OTLP encoder packs.
public struct SpanData: Sendable, Equatable {
    public enum Kind: Int, Sendable {
        case `internal` = 1, server = 2, client = 3, producer = 4, consumer = 5
    }

    public enum StatusCode: Int, Sendable {
        case unset = 0, ok = 1, error = 2
    }

    public struct Event: Sendable, Equatable {
        public var name: String
        public var timeUnixNano: UInt64
        public var attributes: [String: AttributeValue]

        public init(name: String, timeUnixNano: UInt64, attributes: [String: AttributeValue] = [:]) {
            self.name = name
            self.timeUnixNano = timeUnixNano
            self.attributes = attributes
        }
    }

    public struct Link: Sendable, Equatable {
        public var traceID: String
        public var spanID: String
        public var attributes: [String: AttributeValue]

        public init(traceID: String, spanID: String, attributes: [String: AttributeValue] = [:]) {
            self.traceID = traceID
            self.spanID = spanID
            self.attributes = attributes
        }
    }

    /// 32 hex digits.
    public var traceID: String
    /// 16 hex digits.
    public var spanID: String
    public var parentSpanID: String?
    public var parentIsRemote: Bool
    public var traceState: String?
    public var name: String
    public var kind: Kind
    public var startUnixNano: UInt64
    public var endUnixNano: UInt64
    public var attributes: [String: AttributeValue]
    public var events: [Event]
    public var links: [Link]
    public var status: StatusCode
    public var statusMessage: String?

    public init(
        traceID: String,
        spanID: String,
        parentSpanID: String? = nil,
        parentIsRemote: Bool = false,
        traceState: String? = nil,
        name: String,
        kind: Kind,
        startUnixNano: UInt64,
        endUnixNano: UInt64,
        attributes: [String: AttributeValue] = [:],
        events: [Event] = [],
        links: [Link] = [],
        status: StatusCode = .unset,
        statusMessage: String? = nil
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.parentIsRemote = parentIsRemote
        self.traceState = traceState
        self.name = name
        self.kind = kind
        self.startUnixNano = startUnixNano
        self.endUnixNano = endUnixNano
        self.attributes = attributes
        self.events = events
        self.links = links
        self.status = status
        self.statusMessage = statusMessage
    }
}

/// An attribute value, as OTLP's AnyValue carries it.
public enum AttributeValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case stringArray([String])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
}
