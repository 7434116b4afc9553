import Upstream

/// Stage 4, call: hands the decoded, routed request to its deployment's provider, with an
/// ``UpstreamCall`` through which every upstream attempt of this request goes.
struct CallStage: Sendable {
    let providers: ProviderRegistry
    let client: UpstreamClient

    func call(_ decoded: DecodeStage.Decoded, route: Route, exchange: Exchange, countingTokens: Bool) async throws
        -> ProviderReply
    {
        let call = ProviderCall(
            request: decoded.request,
            body: decoded.body,
            route: route,
            forwardedHeaders: decoded.forwardedHeaders,
            query: decoded.query,
            upstream: UpstreamCall(client: self.client, exchange: exchange, provider: route.provider.rawValue)
        )
        let provider = self.providers.provider(for: route)
        return try await countingTokens ? provider.countTokens(call) : provider.sendMessage(call)
    }
}
