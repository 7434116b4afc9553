/// Stage 3, route: the model name a client sent → its model group, whose deployments the call stage
/// chooses among (and falls back from).
struct RouteStage: Sendable {
    let routes: RouteTable

    func route(_ request: AnthropicRequest, exchange: Exchange) throws -> GroupMatch {
        guard let match = self.routes.match(request.model) else {
            let known = self.routes.allModelNames.prefix(20).joined(separator: ", ")
            throw AnthropicError.notFound("model: \(request.model) is not configured; configured models: \(known)")
        }
        return match
    }
}
