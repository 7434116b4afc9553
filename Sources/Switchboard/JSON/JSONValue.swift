/// Any JSON value, for the parts of a request Switchboard carries without interpreting: tool schemas,
/// tool inputs, provider extras.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
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
