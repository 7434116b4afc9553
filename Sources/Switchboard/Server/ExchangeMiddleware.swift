import HTTPTypes
import Hummingbird

/// Opens each request's ``Exchange`` and closes it once the response is written — or the client has
/// gone — then hands the finished record to every observer. Outermost, so it sees every response.
struct ExchangeMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let observers: [any ExchangeObserver]

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let exchange = context.exchange
        exchange.update { $0.method = request.method.rawValue }
        var response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        let status = Int(response.status.code)
        exchange.update { record in
            record.route = route
            record.status = status
        }
        response.headers[HTTPField.Name("request-id")!] = exchange.record.requestID

        let body = response.body
        let observers = self.observers
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            do {
                try await body.write(writer)
                Self.finish(exchange, observers: observers, clientDisconnected: false)
            } catch {
                Self.finish(exchange, observers: observers, clientDisconnected: true)
                throw error
            }
        }
        return response
    }

    private static func finish(_ exchange: Exchange, observers: [any ExchangeObserver], clientDisconnected: Bool) {
        exchange.mark(.finished)
        if clientDisconnected { exchange.update { $0.clientDisconnected = true } }
        let record = exchange.record
        for observer in observers { observer.exchangeDidFinish(record) }
    }
}
