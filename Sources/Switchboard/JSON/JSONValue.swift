import OrderedCollections

/// A JSON object's fields in the order they were written. Order matters on the wire: the same request
/// must produce the same upstream bytes every time, or an upstream's prefix cache misses.
public typealias JSONObject = OrderedDictionary<String, JSONValue>

/// Any JSON value, for the parts of a request Switchboard carries without interpreting: tool schemas,
/// tool inputs, provider extras.
///
/// Two objects are equal when they hold the same fields, in any order, as JSON means; their bytes
/// differ when their order does.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && a.allSatisfy { key, value in b[key] == value }
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(value)
        case .number(let value): hasher.combine(value)
        case .string(let value): hasher.combine(value)
        case .array(let items): hasher.combine(items)
        case .object(let fields):
            // Order-independent, to agree with ==.
            hasher.combine(fields.count)
            var combined = 0
            for (key, value) in fields { combined ^= key.hashValue &+ 31 &* value.hashValue }
            hasher.combine(combined)
        }
    }
}

extension JSONValue {
    /// Parses JSON text.
    static func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text)
    }

    /// Compact JSON text.
    var jsonText: String {
        var writer = JSONWriter()
        writer.value(self)
        return writer.text
    }
}
