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

    func int() throws -> Int {
        guard let value = self.node.int else { throw self.error("expected a whole number") }
        return value
    }

    func double() throws -> Double {
        guard let value = self.node.float else { throw self.error("expected a number") }
        return value
    }

    /// The node as JSON, for values passed through to providers.
    func json() throws -> JSONValue {
        switch self.node {
        case .scalar:
            if self.isNull { return .null }
            if case .scalar(let scalar) = self.node, scalar.style != .plain { return .string(scalar.string) }
            if let bool = self.node.bool { return .bool(bool) }
            if let number = self.node.float { return .number(number) }
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
