/// Stage 3, route: the model name a client sent → the deployment that serves it, and the provider's
/// model id, checked before anything is sent anywhere.
struct RouteStage: Sendable {
    let routes: RouteTable

    func route(_ request: AnthropicRequest, exchange: Exchange) throws -> Route {
        guard let route = self.routes.resolve(request.model) else {
            let known = self.routes.allModelNames.prefix(20).joined(separator: ", ")
            throw AnthropicError.notFound("model: \(request.model) is not configured; configured models: \(known)")
        }
        // A wildcard route copies part of the client's model name into the upstream id, which some
        // providers put in a URL path: `gemini-x/../../files` must never reach one.
        if let problem = UpstreamModelID.problem(with: route.upstreamModel, for: route.provider) {
            throw AnthropicError.invalidRequest(
                "model: \(request.model) resolves to the \(route.provider.rawValue) model id '\(route.upstreamModel)', "
                    + "which is not valid: \(problem)"
            )
        }
        exchange.update { record in
            record.provider = route.provider
            record.upstreamModel = route.upstreamModel
        }
        return route
    }
}
