import HTTPTypes
import Hummingbird
import Telemetry
import Tracing

/// Opens each request's ``Exchange`` and closes it once the response is written — or the client has
/// gone — then hands the finished record to every observer. Outermost, so it sees every response.
struct ExchangeMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let stages: [any ExchangeStage]
    let observers: [any ExchangeObserver]
    let live: LiveExchanges
    let tracing: TracePolicy

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let exchange = context.exchange
        let incoming = request.headers[HTTPField.Name("traceparent")!].flatMap(TraceContext.init(traceparent:))
        let userAgent = request.headers[.userAgent]
        let (trace, requestID) = exchange.update { record in
            record.method = request.method.rawValue
            record.userAgent = userAgent
            record.trace = self.tracing.trace(incoming ?? record.trace, method: record.method, path: request.uri.path)
            return (record.trace, record.requestID)
        }
        self.live.begin(exchange)
        // Spans libraries start while serving this request (through swift-distributed-tracing) nest under it.
        var instrumentation = InstrumentationContext.current ?? .topLevel
        instrumentation.traceContext = trace
        var response: Response
        do {
            response = try await InstrumentationContext.$current.withValue(instrumentation) {
                try await next(request, context)
            }
        } catch {
            self.live.end(exchange)
            throw error
        }
        let route = context.endpointPath ?? "unmatched"
        let status = Int(response.status.code)
        exchange.update { record in
            record.route = route
            record.status = status
        }
        response.headers[HTTPField.Name("request-id")!] = requestID

        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            do {
                try await body.write(writer)
                self.finish(exchange, clientDisconnected: false)
            } catch {
                self.finish(exchange, clientDisconnected: true)
                throw error
            }
        }
        return response
    }

    private func finish(_ exchange: Exchange, clientDisconnected: Bool) {
        exchange.mark(.finished)
        self.live.end(exchange)
        var record = exchange.record
        record.clientDisconnected = clientDisconnected
        for stage in self.stages { stage.complete(&record) }
        for observer in self.observers { observer.exchangeDidFinish(record) }
    }
}
