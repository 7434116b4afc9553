import OrderedCollections

/// Turns a tool's `input_schema` into what Gemini's `parametersJsonSchema` accepts.
///
/// `parametersJsonSchema` takes real JSON Schema (anyOf, additionalProperties, enums of any type,
/// exclusiveMinimum, `$defs` with `$ref`…), so most of Claude Code's schemas pass as they are. What it does
/// not take is a `$schema` (or `$id`, `$comment`) declaration, a `$ref` that resolves nowhere, or keywords
/// other than `description` and `default` beside a `$ref` (wire.md §B.7). A schema that is not an object
/// schema gets `"type": "object"`.
///
/// References into `$defs` or `definitions` are inlined where that is finite and cheap, which is what
/// models follow best. A definition on a reference cycle (a JSON-value type holding arrays and objects
/// of itself) cannot be inlined: cycles are found once, over the graph of definitions, and such a
/// definition stays under the root's `$defs`, pointed to by `{"$ref": "#/$defs/Name"}`. So does one whose
/// inlining would outgrow ``minimumInlineBudget`` (or the schema's own size, if larger) or nest deeper
/// than ``maximumInlinedDepth``: shared definitions that each use the next twice double with every level.
/// Every input thus costs work and bytes in proportion to its size.
enum GeminiSchemaConverter {
    struct Conversion: Sendable {
        var schema: JSONValue
        /// What was changed, each change once, in the order met.
        var changes: [String]
        /// Whether part of the schema was cut because Gemini cannot take it (a `$ref` that resolves
        /// nowhere, a schema that is not an object, constraints beside a kept `$ref`): the model then sees
        /// a looser schema than the client declared.
        var isLossy: Bool

        /// At most this many changes are named in a note; the rest are counted.
        static let changesNamed = 8

        /// The one translation note for a tool's schema, or nil when it went through untouched.
        func note(forTool name: String) -> TranslationEvent? {
            guard !self.changes.isEmpty else { return nil }
            var detail = self.changes.prefix(Self.changesNamed).joined(separator: ", ")
            let unnamed = self.changes.count - Self.changesNamed
            if unnamed > 0 { detail += " and \(unnamed) more" }
            return TranslationEvent(self.isLossy ? .schemaRejected : .schemaRewritten, "\(name): \(detail)")
        }
    }

    /// How deep an inlined reference may reach below the schema's root: enough for any hand-written or
    /// generated model, far below what a JSON parser on the way refuses.
    static let maximumInlinedDepth = 64
    /// Nodes that inlining may add to a schema: this many, or as many as the schema has if it has more.
    static let minimumInlineBudget = 4096

    static func convert(_ schema: JSONValue?) -> Conversion {
        guard case .object(var root) = schema ?? .object([:]) else {
            return Conversion(
                schema: .object(["type": .string("object"), "properties": .object([:])]),
                changes: ["schema was not an object"],
                isLossy: true
            )
        }
        // Counted only where there is something to inline: most schemas have no definitions.
        let hasDefinitions = root["$defs"] != nil || root["definitions"] != nil
        let budget = hasDefinitions ? max(Self.minimumInlineBudget, Self.nodeCount(.object(root))) : 0
        var definitions: JSONObject = [:]
        var containers: [String] = []
        for key in ["$defs", "definitions"] {
            guard let container = root.removeValue(forKey: key) else { continue }
            containers.append(key)
            if case .object(let defs) = container { definitions.merge(defs) { first, _ in first } }
        }
        var inliner = ReferenceInliner(definitions: definitions, budget: budget)
        var cleaned = inliner.clean(.object(root), depth: 0) ?? .object(root)
        let kept = inliner.keptDefinitions()
        guard case .object(var object) = cleaned else { preconditionFailure("an object schema stays an object") }
        if object["type"] == nil && object["anyOf"] == nil {
            object["type"] = .string("object")
            inliner.notes.rewrite("added type object")
        }
        if !kept.isEmpty { object["$defs"] = .object(kept) }
        for key in containers where kept.isEmpty || key != "$defs" {
            inliner.notes.rewrite(kept.isEmpty ? "removed \(key)" : "moved \(key) to $defs")
        }
        cleaned = .object(object)
        return Conversion(schema: cleaned, changes: inliner.notes.changes.elements, isLossy: inliner.notes.isLossy)
    }

    // MARK: - Walking schemas

    /// Keywords whose value is a schema, or a list of schemas (`anyOf`, tuple-form `items`).
    static let schemaKeywords: Set<String> = [
        "items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else", "additionalItems",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema", "anyOf", "oneOf", "allOf", "prefixItems",
    ]
    /// Keywords whose value maps names to schemas. Everything else (`enum`, `default`, `examples`…) is
    /// data, never rewritten.
    static let schemaMapKeywords: Set<String> = [
        "properties", "patternProperties", "dependentSchemas", "$defs", "definitions",
    ]

    /// Calls `body` with each subschema of `object` and how many levels below `object` it sits.
    static func forEachSubschema(of object: JSONObject, _ body: (JSONValue, Int) -> Void) {
        for (key, value) in object {
            if Self.schemaKeywords.contains(key) {
                if case .array(let items) = value {
                    items.forEach { body($0, 2) }
                } else {
                    body(value, 1)
                }
            } else if Self.schemaMapKeywords.contains(key), case .object(let map) = value {
                map.values.forEach { body($0, 2) }
            }
        }
    }

    static func nodeCount(_ value: JSONValue) -> Int {
        switch value {
        case .object(let object): object.values.reduce(1) { $0 + Self.nodeCount($1) }
        case .array(let items): items.reduce(1) { $0 + Self.nodeCount($1) }
        default: 1
        }
    }

    static func depth(_ value: JSONValue) -> Int {
        switch value {
        case .object(let object): 1 + (object.values.map(Self.depth).max() ?? 0)
        case .array(let items): 1 + (items.map(Self.depth).max() ?? 0)
        default: 0
        }
    }

    /// The definition a local reference names (`#/$defs/Name` or `#/definitions/Name`, JSON-pointer
    /// escaped), or nil for any other reference.
    static func definitionName(_ reference: String) -> String? {
        for prefix in ["#/$defs/", "#/definitions/"] where reference.hasPrefix(prefix) {
            let escaped = reference.dropFirst(prefix.count)
            guard !escaped.isEmpty, !escaped.contains("/") else { return nil }
            return String(escaped.replacing("~1", with: "/").replacing("~0", with: "~"))
        }
        return nil
    }

    static func reference(to name: String) -> String {
        "#/$defs/" + name.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}

/// The changes a conversion made, each named once.
struct SchemaNotes {
    private(set) var changes: OrderedSet<String> = []
    private(set) var isLossy = false

    mutating func rewrite(_ change: String) {
        self.changes.append(change)
    }

    mutating func cut(_ change: String) {
        self.changes.append(change)
        self.isLossy = true
    }
}

/// Resolves the `$ref`s of one schema: inlines what is acyclic and affordable, keeps the rest as
/// references into `$defs`.
private struct ReferenceInliner {
    /// The size and depth of an acyclic definition once every reference in it is inlined.
    struct Expansion {
        /// Nodes of the definition itself, charged when it is inlined (what it refers to is charged
        /// where those references are inlined in turn).
        var ownNodes: Int
        var nodes: Int
        var depth: Int
    }

    let definitions: JSONObject
    /// Only acyclic definitions have one; a definition without one is never inlined.
    let expansions: [String: Expansion]
    let recursive: Set<String>
    /// Nodes inlining may still add.
    var budget: Int
    var notes = SchemaNotes()
    /// Definitions that a kept `$ref` points to, in the order first met.
    private var kept: OrderedSet<String> = []
    /// Definitions inlined at the root because the root cannot be a bare reference; one pass each.
    private var inlinedAtRoot: Set<String> = []

    init(definitions: JSONObject, budget: Int) {
        self.definitions = definitions
        self.budget = budget
        guard !definitions.isEmpty else {
            self.expansions = [:]
            self.recursive = []
            return
        }
        // Each definition's own size and depth, and the references in it with their depths.
        var surveys: [String: (nodes: Int, depth: Int, references: [(name: String, depth: Int)])] = [:]
        for (name, body) in definitions {
            var references: [(name: String, depth: Int)] = []
            Self.collectReferences(in: body, depth: 0, definitions: definitions, into: &references)
            surveys[name] = (GeminiSchemaConverter.nodeCount(body), GeminiSchemaConverter.depth(body), references)
        }
        let components = Self.stronglyConnectedComponents(
            of: Array(definitions.keys),
            edges: surveys.mapValues { $0.references.map { $0.name } }
        )
        var recursive: Set<String> = []
        var expansions: [String: Expansion] = [:]
        // Components come leaves first, so whatever a definition refers to is measured before it.
        for component in components {
            let name = component[0]
            let survey = surveys[name]!
            if component.count > 1 || survey.references.contains(where: { $0.name == name }) {
                recursive.formUnion(component)
                continue
            }
            var expansion = Expansion(ownNodes: survey.nodes, nodes: survey.nodes, depth: survey.depth)
            for reference in survey.references {
                guard let inner = expansions[reference.name] else { continue }  // a recursive one stays a $ref
                let (sum, overflow) = expansion.nodes.addingReportingOverflow(inner.nodes)
                expansion.nodes = overflow ? .max : sum
                expansion.depth = max(expansion.depth, reference.depth + inner.depth)
            }
            expansions[name] = expansion
        }
        self.recursive = recursive
        self.expansions = expansions
    }

    private static func collectReferences(
        in schema: JSONValue,
        depth: Int,
        definitions: JSONObject,
        into references: inout [(name: String, depth: Int)]
    ) {
        guard case .object(let object) = schema else { return }
        if case .string(let reference) = object["$ref"], let name = GeminiSchemaConverter.definitionName(reference),
            definitions[name] != nil
        {
            references.append((name, depth))
        }
        GeminiSchemaConverter.forEachSubschema(of: object) { child, below in
            Self.collectReferences(in: child, depth: depth + below, definitions: definitions, into: &references)
        }
    }

    /// Tarjan's algorithm, iterative so that a chain of thousands of definitions cannot exhaust the
    /// stack. The nodes on the search path are the visiting set: an edge back into it closes a cycle.
    /// Components come out in reverse topological order (a component after everything it reaches).
    private static func stronglyConnectedComponents(of nodes: [String], edges: [String: [String]]) -> [[String]] {
        var index: [String: Int] = [:]
        var lowLink: [String: Int] = [:]
        var visiting: [String] = []
        var isVisiting: Set<String> = []
        var components: [[String]] = []
        func open(_ node: String) {
            index[node] = index.count
            lowLink[node] = index[node]
            visiting.append(node)
            isVisiting.insert(node)
        }
        for start in nodes where index[start] == nil {
            open(start)
            var path: [(node: String, nextEdge: Int)] = [(start, 0)]
            while let top = path.last {
                let (node, nextEdge) = top
                let targets = edges[node] ?? []
                if nextEdge < targets.count {
                    path[path.count - 1].nextEdge += 1
                    let target = targets[nextEdge]
                    if index[target] == nil {
                        open(target)
                        path.append((target, 0))
                    } else if isVisiting.contains(target) {
                        lowLink[node] = min(lowLink[node]!, index[target]!)
                    }
                    continue
                }
                path.removeLast()
                if let parent = path.last?.node { lowLink[parent] = min(lowLink[parent]!, lowLink[node]!) }
                guard lowLink[node] == index[node] else { continue }
                var component: [String] = []
                while let member = visiting.popLast() {
                    isVisiting.remove(member)
                    component.append(member)
                    if member == node { break }
                }
                components.append(component)
            }
        }
        return components
    }

    /// The cleaned value, or nil when it needs no change: most of a schema passes untouched, and is
    /// then not copied. `depth` is how far below the root `value` sits.
    mutating func clean(_ value: JSONValue, depth: Int) -> JSONValue? {
        guard case .object(var object) = value else { return nil }
        if case .string(let reference) = object["$ref"] {
            object.removeValue(forKey: "$ref")
            return self.resolve(reference, siblings: object, depth: depth)
        }
        var changed = false
        for key in ["$schema", "$id", "$comment"] {
            guard object.removeValue(forKey: key) != nil else { continue }
            self.notes.rewrite("removed \(key)")
            changed = true
        }
        for (key, child) in object {
            if GeminiSchemaConverter.schemaKeywords.contains(key) {
                if case .array(var items) = child {
                    var itemsChanged = false
                    for (index, item) in items.enumerated() {
                        if let cleaned = self.clean(item, depth: depth + 2) {
                            items[index] = cleaned
                            itemsChanged = true
                        }
                    }
                    if itemsChanged { object[key] = .array(items) }
                    changed = changed || itemsChanged
                } else if let cleaned = self.clean(child, depth: depth + 1) {
                    object[key] = cleaned
                    changed = true
                }
            } else if GeminiSchemaConverter.schemaMapKeywords.contains(key), case .object(var map) = child {
                var mapChanged = false
                for (name, schema) in map {
                    if let cleaned = self.clean(schema, depth: depth + 2) {
                        map[name] = cleaned
                        mapChanged = true
                    }
                }
                if mapChanged { object[key] = .object(map) }
                changed = changed || mapChanged
            }
        }
        return changed ? .object(object) : nil
    }

    private static let keptBesideReference: Set<String> = ["description", "default"]
    /// Keywords that constrain nothing, so dropping them beside a kept `$ref` loses nothing.
    private static let annotations: Set<String> = ["title", "examples", "$comment", "$id", "$schema"]

    private mutating func resolve(_ reference: String, siblings: JSONObject, depth: Int) -> JSONValue {
        var object = siblings
        guard let name = GeminiSchemaConverter.definitionName(reference),
            case .object(let target)? = self.definitions[name]
        else {
            self.notes.cut("dropped unresolvable $ref \(reference)")
            return self.clean(.object(object), depth: depth) ?? .object(object)
        }
        let expansion = self.expansions[name]
        let affordable = expansion.map {
            $0.nodes <= self.budget && depth + $0.depth <= GeminiSchemaConverter.maximumInlinedDepth
        } ?? false
        // The root must be an object schema, not a bare reference: it takes one level of any definition.
        let atRoot = depth == 0 && self.inlinedAtRoot.insert(name).inserted
        if affordable || atRoot {
            if affordable { self.budget -= expansion!.ownNodes }
            object.merge(target) { local, _ in local }
            self.notes.rewrite("inlined $ref \(reference)")
            return self.clean(.object(object), depth: depth) ?? .object(object)
        }
        self.kept.append(name)
        self.notes.rewrite(
            self.recursive.contains(name)
                ? "kept recursive $ref \(reference) in $defs" : "kept $ref \(reference) in $defs: too large to inline"
        )
        let dropped = object.keys.filter { !Self.keptBesideReference.contains($0) }
        if dropped.contains(where: { !Self.annotations.contains($0) }) {
            self.notes.cut("dropped \(dropped.joined(separator: ", ")) beside $ref \(reference)")
        }
        var result: JSONObject = ["$ref": .string(GeminiSchemaConverter.reference(to: name))]
        for (key, value) in object where Self.keptBesideReference.contains(key) { result[key] = value }
        return .object(result)
    }

    /// The cleaned bodies of every definition a kept `$ref` points to, directly or through another kept
    /// definition, for the root's `$defs`.
    mutating func keptDefinitions() -> JSONObject {
        var bodies: JSONObject = [:]
        var next = 0
        while next < self.kept.count {
            let name = self.kept[next]
            next += 1
            let body = self.definitions[name]!
            // Under `$defs/Name`, two levels below the root.
            bodies[name] = self.clean(body, depth: 2) ?? body
        }
        return bodies
    }
}
