import Foundation
import OrderedCollections
import Yams

/// A YAML node that knows its path, so every complaint about it can say where it is.
struct ConfigNode {
    let node: Node
    let path: String

    var line: Int? { self.node.mark?.line }

    func error(_ message: String) -> ConfigurationError {
        ConfigurationError(path: self.path, line: self.line, message: message)
    }

    var isNull: Bool {
        if case .scalar = self.node, self.node.null != nil { return true }
        return false
    }

    /// The mapping's entries in file order.
    func mapping() throws -> [(key: String, value: ConfigNode)] {
        guard let mapping = self.node.mapping else { throw self.error("expected a mapping (key: value pairs)") }
        return try mapping.map { key, value in
            guard let name = key.string else {
                throw ConfigurationError(path: self.path, line: key.mark?.line, message: "expected string keys")
            }
            return (name, ConfigNode(node: value, path: self.child(name)))
        }
    }

    func sequence() throws -> [ConfigNode] {
        guard let sequence = self.node.sequence else { throw self.error("expected a list") }
        return sequence.enumerated().map { ConfigNode(node: $1, path: "\(self.path)[\($0)]") }
    }

    func string() throws -> String {
        guard case .scalar(let scalar) = self.node, !self.isNull else { throw self.error("expected a string") }
        return scalar.string
    }

    func bool() throws -> Bool {
        guard let value = self.node.bool else { throw self.error("expected true or false") }
        return value
    }

    /// A whole number from `range`. Read through ``double(in:)`` rather than Yams' integer reading, which traps
    /// on an overflowing sexagesimal form (`9223372036854775807:59`); a number too large for `Int` is out of
    /// range, never a crash.
    func int(in range: ClosedRange<Int>) throws -> Int {
        let expected = "expected a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard case .scalar(let scalar) = self.node, !self.isNull else { throw self.error(expected) }
        if let exact = Int(scalar.string.replacingOccurrences(of: "_", with: "")) {
            guard range.contains(exact) else { throw self.error("\(expected); got \(scalar.string)") }
            return exact
        }
        guard let number = self.node.float, number.isFinite, number == number.rounded(),
            number >= Double(range.lowerBound), number <= Double(range.upperBound)
        else { throw self.error("\(expected); got \(scalar.string)") }
        return Int(number)
    }

    /// A finite number (never YAML's `.inf` or `.nan`, nor the bare `inf`/`nan` Yams also reads as numbers).
    func double() throws -> Double {
        guard let value = self.node.float, value.isFinite else { throw self.error("expected a number") }
        return value
    }

    /// A finite number from `range`, so that what is derived from it (bytes, milliseconds) fits an integer.
    func double(in range: ClosedRange<Double>, _ what: String) throws -> Double {
        let expected = "expected \(what) from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
        guard let value = self.node.float, value.isFinite, range.contains(value) else {
            throw self.error(self.isNull ? expected : "\(expected); got \(self.node.scalar?.string ?? "a non-number")")
        }
        return value
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
    }

    /// The node as JSON, for values passed through to providers.
    func json() throws -> JSONValue {
        switch self.node {
        case .scalar:
            if self.isNull { return .null }
            if case .scalar(let scalar) = self.node, scalar.style != .plain { return .string(scalar.string) }
            if let bool = self.node.bool { return .bool(bool) }
            // Infinite and NaN have no JSON form: such a scalar stays the text it was written as.
            if let number = self.node.float, number.isFinite { return .number(number) }
            return .string(try self.string())
        case .sequence:
            return .array(try self.sequence().map { try $0.json() })
        case .mapping:
            var object: JSONObject = [:]
            for (key, value) in try self.mapping() { object[key] = try value.json() }
            return .object(object)
        case .alias:
            throw self.error("YAML aliases are not supported here")
        }
    }

    private func child(_ key: String) -> String {
        self.path.isEmpty ? key : "\(self.path).\(key)"
    }
}
