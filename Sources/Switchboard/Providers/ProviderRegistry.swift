import Upstream

/// One provider per `model_list` entry, built once at start.
public struct ProviderRegistry: Sendable {
    private let providers: [String: any Provider]

    public init(configuration: GatewayConfiguration, upstream: UpstreamClient) {
        var providers: [String: any Provider] = [:]
        for deployment in configuration.deployments {
            providers[deployment.origin] = Self.makeProvider(for: deployment, upstream: upstream)
        }
        self.providers = providers
    }

    /// The provider serving `route`.
    public func provider(for route: Route) -> any Provider {
        self.providers[route.deployment.origin]!
    }

    private static func makeProvider(for deployment: ModelDeployment, upstream: UpstreamClient) -> any Provider {
        switch deployment.provider {
        case .anthropic: AnthropicPassthroughProvider(deployment: deployment, upstream: upstream)
        case .mock: MockProvider(deployment: deployment)
        }
    }
}
