/// One provider per `model_list` entry, built once at start.
public struct ProviderRegistry: Sendable {
    private let providers: [String: any Provider]

    public init(configuration: GatewayConfiguration) {
        // One signature store for every Gemini route: a conversation may move between them.
        let signatures = ThoughtSignatures()
        var providers: [String: any Provider] = [:]
        for deployment in configuration.deployments {
            providers[deployment.origin] = Self.makeProvider(
                for: deployment,
                configuration: configuration,
                signatures: signatures
            )
        }
        self.providers = providers
    }

    /// The provider serving `route`.
    public func provider(for route: Route) -> any Provider {
        self.providers[route.deployment.origin]!
    }

    private static func makeProvider(
        for deployment: ModelDeployment,
        configuration: GatewayConfiguration,
        signatures: ThoughtSignatures
    ) -> any Provider {
        switch deployment.provider {
        case .anthropic: AnthropicPassthroughProvider(deployment: deployment)
        case .mock: MockProvider(deployment: deployment)
        case .gemini:
            GeminiProvider(
                deployment: deployment,
                transport: AIStudioTransport(deployment: deployment),
                signatures: signatures,
                dropParams: configuration.dropParams,
                pingInterval: configuration.server.pingInterval
            )
        }
    }
}
