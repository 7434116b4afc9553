import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into an Anthropic error body with the right status: what the router throws (404),
/// what stages throw (``AnthropicError``), and anything unexpected (500, logged).
struct AnthropicErrorMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let failure: AnthropicError
        do {
            return try await next(request, context)
        } catch let error as CancellationError {
            throw error  // the client has gone: there is nobody to answer
        } catch let error as AnthropicError {
            failure = error
        } catch let error as HTTPError {
            let status = Int(error.status.code)
            let message = error.status == .notFound
                ? "Not found: \(request.method) \(request.uri.path)"
                : (error.body ?? error.status.reasonPhrase)
            failure = AnthropicError(status: status, type: AnthropicError.type(forStatus: status), message: message)
        } catch {
            context.logger.error("unexpected failure", metadata: ["error": "\(error)"])
            failure = .api("internal error in the gateway; see its log for request \(context.exchange.record.requestID)")
        }
        context.exchange.update { $0.errorType = failure.type }
        return try failure.response(from: request, context: context)
    }
}
