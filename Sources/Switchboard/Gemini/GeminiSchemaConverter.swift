import OrderedCollections

/// Turns a tool's `input_schema` into what Gemini's `parametersJsonSchema` accepts.
///
/// `parametersJsonSchema` takes real JSON Schema (anyOf, additionalProperties, enums of any type,
/// exclusiveMinimum…), so most of Claude Code's schemas pass as they are. What it does not take is a
/// `$schema` (or `$id`, `$comment`) declaration, and `$ref`s, which are inlined from `$defs` or
/// `definitions`. A schema that is not an object schema gets `"type": "object"`.
enum GeminiSchemaConverter {
    /// The converted schema, and what was changed (empty when nothing was).
    static func convert(_ schema: JSONValue?) -> (schema: JSONValue, changes: [String]) {
        var changes: [String] = []
        guard case .object(var root) = schema ?? .object([:]) else {
            return (.object(["type": .string("object"), "properties": .object([:])]), ["schema was not an object"])
        }
        var definitions: JSONObject = [:]
        for key in ["$defs", "definitions"] {
            if case .object(let defs) = root.removeValue(forKey: key) {
                definitions.merge(defs) { first, _ in first }
                changes.append("inlined \(key)")
            }
        }
        if root["type"] == nil && root["anyOf"] == nil {
            root["type"] = .string("object")
            changes.append("added type object")
        }
        let cleaned = Self.clean(.object(root), definitions: definitions, depth: 0, changes: &changes) ?? .object(root)
        return (cleaned, changes)
    }

    private static let unsupportedKeys: Set<String> = ["$schema", "$id", "$comment"]

    /// The cleaned value, or nil when it needs no change: most of a schema passes untouched, and is
    /// then not copied.
    private static func clean(
        _ value: JSONValue,
        definitions: JSONObject,
        depth: Int,
        changes: inout [String]
    ) -> JSONValue? {
        switch value {
        case .object(var object):
            if case .string(let reference) = object["$ref"] {
                let name = String(reference.split(separator: "/").last ?? "")
                object.removeValue(forKey: "$ref")
                if depth < 16, case .object(let target)? = definitions[name] {
                    object.merge(target) { local, _ in local }
                    changes.append("inlined $ref \(reference)")
                } else {
                    changes.append("dropped unresolvable $ref \(reference)")
                }
                let inlined = JSONValue.object(object)
                return Self.clean(inlined, definitions: definitions, depth: depth + 1, changes: &changes) ?? inlined
            }
            var changed = false
            for key in Self.unsupportedKeys where object[key] != nil {
                object.removeValue(forKey: key)
                changes.append("removed \(key)")
                changed = true
            }
            // Values under `properties` are schemas keyed by property name; everything else is walked alike.
            for (key, child) in object {
                if let cleaned = Self.clean(child, definitions: definitions, depth: depth, changes: &changes) {
                    object[key] = cleaned
                    changed = true
                }
            }
            return changed ? .object(object) : nil
        case .array(var items):
            var changed = false
            for (index, item) in items.enumerated() {
                if let cleaned = Self.clean(item, definitions: definitions, depth: depth, changes: &changes) {
                    items[index] = cleaned
                    changed = true
                }
            }
            return changed ? .array(items) : nil
        default:
            return nil
        }
    }
}
