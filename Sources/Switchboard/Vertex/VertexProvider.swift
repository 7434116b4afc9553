/// `vertex_ai/<model>`: Google Cloud's Vertex AI, for Gemini and for Claude, as LiteLLM's prefix is.
///
/// A model id beginning with `claude` is Anthropic's and passes through (``VertexAnthropicProvider``);
/// any other is Google's and is translated (``GeminiProvider`` on a ``VertexGeminiTransport``). The choice
/// is made per request, so a wildcard deployment (`vertex_ai/*`) serves both.
struct VertexProvider: Provider {
    let gemini: GeminiProvider
    let claude: VertexAnthropicProvider

    func sendMessage(_ call: ProviderCall) async throws -> ProviderReply {
        try await self.serving(call).sendMessage(call)
    }

    func countTokens(_ call: ProviderCall) async throws -> ProviderReply {
        try await self.serving(call).countTokens(call)
    }

    private func serving(_ call: ProviderCall) -> any Provider {
        VertexEndpoint.Publisher(model: call.route.upstreamModel) == .anthropic ? self.claude : self.gemini
    }
}
