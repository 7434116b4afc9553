/// Stage 3, route: the model name a client sent → its model group, whose deployments the call stage
/// chooses among (and falls back from).
struct RouteStage: Sendable {
    let routes: RouteTable

    func route(_ request: AnthropicRequest, exchange: Exchange) throws -> GroupMatch {
        guard let match = self.routes.match(request.model) else {
            let known = self.routes.allModelNames.prefix(20).joined(separator: ", ")
            throw AnthropicError.notFound("model: \(request.model) is not configured; configured models: \(known)")
        }
        if let key = exchange.update({ $0.virtualKey }), !key.allows(model: request.model, accessGroups: match.group.accessGroups) {
            exchange.update { $0.keyRefusal = .limit(scope: "key", kind: "model", key: key.label) }
            throw AnthropicError(
                status: 403, type: "permission_error",
                message: "API key \(key.label.alias) may not use model \(request.model); it may use: "
                    + key.allowedModels.joined(separator: ", ")
            )
        }
        return match
    }
}
