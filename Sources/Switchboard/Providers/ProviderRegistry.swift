/// One provider per `model_list` entry, built once at start.
public struct ProviderRegistry: Sendable {
    private let providers: [String: any Provider]

    /// Vertex AI deployments take their access tokens from `googleTokens`.
    public init(configuration: GatewayConfiguration, googleTokens: GoogleTokenStore) {
        // One signature store for every Gemini route: a conversation may move between them.
        let signatures = ThoughtSignatures()
        var providers: [String: any Provider] = [:]
        for deployment in configuration.deployments {
            providers[deployment.origin] = Self.makeProvider(
                for: deployment,
                configuration: configuration,
                signatures: signatures,
                googleTokens: googleTokens
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
        signatures: ThoughtSignatures,
        googleTokens: GoogleTokenStore
    ) -> any Provider {
        func gemini(on transport: any GeminiTransport) -> GeminiProvider {
            GeminiProvider(
                deployment: deployment,
                transport: transport,
                signatures: signatures,
                dropParams: configuration.dropParams,
                pingInterval: configuration.server.pingInterval
            )
        }
        switch deployment.provider {
        case .anthropic:
            return AnthropicPassthroughProvider(deployment: deployment)
        case .mock:
            return MockProvider(deployment: deployment)
        case .gemini:
            return gemini(on: AIStudioTransport(deployment: deployment))
        case .openai, .azure, .deepseek, .mistral, .groq, .openrouter, .xai, .togetherAI, .fireworksAI, .cerebras,
            .hostedVLLM, .ollamaChat, .ollama, .lmStudio:
            // The loader resolves every such deployment's settings; none is built without them.
            return ChatCompletionsProvider(
                dialect: deployment.provider.chatCompletionsDialect!,
                settings: deployment.chatCompletions!,
                dropParams: configuration.dropParams,
                pingInterval: configuration.server.pingInterval
            )
        case .vertexAI:
            // The loader resolves every vertex_ai deployment's settings; none is built without them.
            let settings = deployment.vertex!
            let access = VertexAccess(
                settings: settings, apiBase: deployment.apiBase, tokens: googleTokens.tokens(for: settings.credentials)
            )
            return VertexProvider(
                gemini: gemini(on: VertexGeminiTransport(access: access)),
                claude: VertexAnthropicProvider(access: access)
            )
        }
    }
}
