/// Finds the deployment for a model name: an exact `model_name` first, then a `model_group_alias`,
/// then the most specific wildcard.
public struct RouteTable: Sendable {
    private let exact: [String: ModelDeployment]
    private let aliases: [String: String]
    /// Wildcard deployments, most specific (most literal characters) first.
    private let patterns: [(pattern: ModelPattern, deployment: ModelDeployment)]

    public init(configuration: GatewayConfiguration) {
        var exact: [String: ModelDeployment] = [:]
        var patterns: [(ModelPattern, ModelDeployment)] = []
        for deployment in configuration.deployments {
            if deployment.modelName.contains("*") {
                patterns.append((ModelPattern(deployment.modelName), deployment))
            } else if exact[deployment.modelName] == nil {
                exact[deployment.modelName] = deployment
            }
        }
        self.exact = exact
        self.aliases = configuration.aliases
        self.patterns = patterns.enumerated()
            .sorted { ($0.element.0.specificity, -$0.offset) > ($1.element.0.specificity, -$1.offset) }
            .map(\.element)
    }

    /// The route for `model`, or nil when nothing matches.
    public func resolve(_ model: String) -> Route? {
        if let deployment = self.exact[model] {
            return Route(requestedModel: model, deployment: deployment, upstreamModel: deployment.upstreamModel)
        }
        if let target = self.aliases[model], var route = self.resolve(target) {
            route.requestedModel = model
            return route
        }
        for (pattern, deployment) in self.patterns {
            if let captures = pattern.match(model) {
                let upstream = ModelPattern.substitute(captures, into: deployment.upstreamModel)
                return Route(requestedModel: model, deployment: deployment, upstreamModel: upstream)
            }
        }
        return nil
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

/// Where one request goes.
public struct Route: Sendable {
    /// The `model` the client sent.
    public var requestedModel: String
    public var deployment: ModelDeployment
    /// The provider's model id, wildcards filled in.
    public var upstreamModel: String

    public var provider: ProviderKind { self.deployment.provider }
}
