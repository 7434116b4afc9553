import OrderedCollections

/// Finds the model group for a model name: an exact `model_name` first, then a `model_group_alias`,
/// then the most specific wildcard.
public struct RouteTable: Sendable {
    private let exact: [String: ModelGroup]
    private let aliases: [String: String]
    /// Wildcard groups, most specific (most literal characters) first, file order among equals.
    private let patterns: [(pattern: ModelPattern, group: ModelGroup)]

    public init(configuration: GatewayConfiguration) {
        var members = OrderedDictionary<String, [ModelDeployment]>()
        for deployment in configuration.deployments { members[deployment.modelName, default: []].append(deployment) }
        var exact: [String: ModelGroup] = [:]
        var patterns: [(ModelPattern, ModelGroup)] = []
        for (name, deployments) in members {
            let group = ModelGroup(name: name, deployments: deployments)
            if name.contains("*") { patterns.append((ModelPattern(name), group)) } else { exact[name] = group }
        }
        self.exact = exact
        self.aliases = configuration.aliases
        self.patterns = patterns.enumerated()
            .sorted { ($0.element.0.specificity, -$0.offset) > ($1.element.0.specificity, -$1.offset) }
            .map(\.element)
    }

    /// The group `model` belongs to, or nil when nothing matches.
    public func match(_ model: String) -> GroupMatch? {
        if let group = self.exact[model] {
            return GroupMatch(requestedModel: model, group: group, captures: [])
        }
        if let target = self.aliases[model], let match = self.match(target) {
            return GroupMatch(requestedModel: model, group: match.group, captures: match.captures)
        }
        for (pattern, group) in self.patterns {
            if let captures = pattern.match(model) {
                return GroupMatch(requestedModel: model, group: group, captures: captures)
            }
        }
        return nil
    }

    /// The route to the first deployment of `model`'s group, or nil when nothing matches.
    public func resolve(_ model: String) -> Route? {
        self.match(model).map { $0.route(to: $0.group.deployments[0]) }
    }

    /// Every group, exact names first, for health reports.
    public var groups: [ModelGroup] {
        self.exact.values.sorted { $0.name < $1.name } + self.patterns.map(\.group)
    }

    /// Names a client can use as they are: exact model names and aliases, sorted.
    public var concreteModelNames: [String] {
        (Array(self.exact.keys) + Array(self.aliases.keys)).sorted()
    }

    /// Every configured model name, wildcards included, for messages.
    public var allModelNames: [String] {
        self.concreteModelNames + self.patterns.map(\.pattern.text)
    }
}
