import Hummingbird

/// `POST /v1/messages` and `/v1/messages/count_tokens`, stage by stage: decode → route → call → encode
/// (accounting on the way out). Authorization runs before, as middleware, since it guards every route;
/// the ``Exchange`` opened by ``ExchangeMiddleware`` is where each stage reports.
struct MessagesPipeline: Sendable {
    let decode: DecodeStage
    let route: RouteStage
    let call: CallStage
    let encode: EncodeStage

    func createMessage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        try await self.run(request, exchange: context.exchange, countingTokens: false)
    }

    func countTokens(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        try await self.run(request, exchange: context.exchange, countingTokens: true)
    }

    private func run(_ request: Request, exchange: Exchange, countingTokens: Bool) async throws -> Response {
        let decoded = try await self.decode.decode(request, exchange: exchange, countingTokens: countingTokens)
        let match = try self.route.route(decoded.request, exchange: exchange)
        let reply = try await self.call.call(decoded, match: match, exchange: exchange, countingTokens: countingTokens)
        let isStreaming = !countingTokens && decoded.request.isStreaming
        return try await self.encode.encode(reply, exchange: exchange, isStreaming: isStreaming)
    }
}
