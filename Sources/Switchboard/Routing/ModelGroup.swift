/// The deployments that answer to one `model_name`: a name listed N times in `model_list` is one group
/// of N deployments (different keys, regions or providers), which the ``ModelRouter`` chooses among.
public struct ModelGroup: Sendable {
    /// The `model_name`, possibly a wildcard pattern.
    public let name: String
    /// In file order; never empty.
    public let deployments: [ModelDeployment]

    /// The access groups its deployments are in (`model_info.access_groups`).
    public var accessGroups: Set<String> { Set(self.deployments.flatMap(\.accessGroups)) }
}

/// A model name the client sent, matched to its group: what each of the group's deployments would be
/// asked for.
public struct GroupMatch: Sendable {
    /// The `model` the client sent (or the fallback group's name, for a fallback).
    public let requestedModel: String
    public let group: ModelGroup
    /// What the group's wildcards matched, filled into each deployment's model id.
    let captures: [Substring]

    /// Where a request goes when `deployment` serves it.
    public func route(to deployment: ModelDeployment) -> Route {
        Route(
            requestedModel: self.requestedModel,
            deployment: deployment,
            upstreamModel: ModelPattern.substitute(self.captures, into: deployment.upstreamModel)
        )
    }
}

/// Where one attempt goes.
public struct Route: Sendable {
    /// The `model` the client sent.
    public var requestedModel: String
    public var deployment: ModelDeployment
    /// The provider's model id, wildcards filled in.
    public var upstreamModel: String

    public init(requestedModel: String, deployment: ModelDeployment, upstreamModel: String) {
        self.requestedModel = requestedModel
        self.deployment = deployment
        self.upstreamModel = upstreamModel
    }

    public var provider: ProviderKind { self.deployment.provider }
}
