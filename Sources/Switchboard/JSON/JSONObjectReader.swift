import OrderedCollections

/// The fields of a JSON object, read with the type checks a request decoder makes.
///
/// Errors name the field in Anthropic's style (`messages.0.content: Field required`); the path is
/// assembled only when something is wrong, as the error travels out through each level.
struct JSONObjectReader {
    let fields: JSONObject

    init(_ value: JSONValue) throws(JSONFieldError) {
        guard case .object(let fields) = value else { throw JSONFieldError.expected("a valid object") }
        self.fields = fields
    }

    /// A field that must be present and not null.
    func required<T>(_ key: String, _ read: (JSONValue) throws -> T) throws -> T {
        guard let value = self.fields[key], value != .null else { throw JSONFieldError(path: [key], problem: "Field required") }
        return try JSONFieldError.locate(key) { try read(value) }
    }

    /// A field that may be absent or null (both read as nil).
    func optional<T>(_ key: String, _ read: (JSONValue) throws -> T) throws -> T? {
        guard let value = self.fields[key], value != .null else { return nil }
        return try JSONFieldError.locate(key) { try read(value) }
    }

    /// A field that must be present and not null, read as its type reads itself.
    func required<T: JSONReadable>(_ key: String) throws -> T {
        try self.required(key, T.init(json:))
    }

    /// A field that may be absent or null, read as its type reads itself.
    func optional<T: JSONReadable>(_ key: String) throws -> T? {
        try self.optional(key, T.init(json:))
    }
}

/// A type that reads itself from a parsed ``JSONValue``, throwing ``JSONFieldError`` for what is wrong.
protocol JSONReadable {
    init(json: JSONValue) throws
}

extension JSONValue: JSONReadable {
    /// Carried as it is, uninterpreted.
    init(json: JSONValue) { self = json }
}

extension String: JSONReadable {
    init(json: JSONValue) throws { self = try json.asString() }
}

extension Int: JSONReadable {
    init(json: JSONValue) throws { self = try json.asInt() }
}

extension Double: JSONReadable {
    init(json: JSONValue) throws { self = try json.asDouble() }
}

extension Bool: JSONReadable {
    init(json: JSONValue) throws { self = try json.asBool() }
}

extension Array: JSONReadable where Element: JSONReadable {
    init(json: JSONValue) throws { self = try json.asList(Element.init(json:)) }
}

/// A JSON field of the wrong type or missing, with where it is.
struct JSONFieldError: Error, Equatable, CustomStringConvertible {
    var path: [String]
    var problem: String

    /// `messages.0.content: Field required`; a problem with the whole body is `body: …`.
    var message: String {
        "\(self.path.isEmpty ? "body" : self.path.joined(separator: ".")): \(self.problem)"
    }

    var description: String { self.message }

    static func expected(_ what: String) -> JSONFieldError {
        JSONFieldError(path: [], problem: "Input should be \(what)")
    }

    /// Runs `body`, placing any field error it throws under `component`.
    static func locate<T>(_ component: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var error as JSONFieldError {
            error.path.insert(component, at: 0)
            throw error
        }
    }
}

extension JSONValue {
    func asString() throws(JSONFieldError) -> String {
        guard case .string(let value) = self else { throw JSONFieldError.expected("a valid string") }
        return value
    }

    func asInt() throws(JSONFieldError) -> Int {
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 9e15 else {
            throw JSONFieldError.expected("a valid integer")
        }
        return Int(value)
    }

    func asDouble() throws(JSONFieldError) -> Double {
        guard case .number(let value) = self else { throw JSONFieldError.expected("a valid number") }
        return value
    }

    func asBool() throws(JSONFieldError) -> Bool {
        guard case .bool(let value) = self else { throw JSONFieldError.expected("a valid boolean") }
        return value
    }

    /// A list, each element read by `element`; errors name the element's index.
    func asList<T>(_ element: (JSONValue) throws -> T) throws -> [T] {
        guard case .array(let items) = self else { throw JSONFieldError.expected("a valid list") }
        var result: [T] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            result.append(try JSONFieldError.locate(String(index)) { try element(item) })
        }
        return result
    }
}
