import HTTPTypes
import Hummingbird
import Synchronization
import Telemetry
import Tracing

/// Opens each request's ``Exchange`` and finishes it exactly once, however the request ends — answered,
/// failed, or its client gone — handing the finished record to every observer. Outermost, so it sees
/// every response.
///
/// While a request is served, its connection's ``ClientConnection`` holds the task serving it: a client
/// that hangs up cancels that task at once, which removes the upstream transfer, and the exchange ends
/// as `client_disconnected`.
struct ExchangeMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let stages: [any ExchangeStage]
    let observers: [any ExchangeObserver]
    let live: LiveExchanges
    let connections: ClientConnections
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
            record.isExcluded = self.tracing.excludedRoutes.contains(method: record.method, path: request.uri.path)
            record.trace = self.tracing.trace(incoming ?? record.trace, isExcluded: record.isExcluded)
            return (record.trace, record.requestID)
        }
        let connection = self.connections.connection(for: context.channel)
        let open = OpenExchange(exchange, finishing: self.finish, connection: connection)
        // A scrape or a health probe is not traffic: counted in flight, every scrape would see itself.
        let isOperational = ExcludedRoutes.operational.contains(method: request.method.rawValue, path: request.uri.path)
        if !isOperational { self.live.begin(exchange) }
        if let connection, let task = RequestTask.current { connection.beginServing(task) }

        // Spans libraries start while serving this request (through swift-distributed-tracing) nest under it.
        var instrumentation = InstrumentationContext.current ?? .topLevel
        instrumentation.traceContext = trace
        var response: Response
        do {
            response = try await InstrumentationContext.$current.withValue(instrumentation) {
                try await next(request, context)
            }
        } catch {
            exchange.update { $0.route = context.endpointPath ?? "unmatched" }
            open.finish(clientDisconnected: (connection?.hasHungUp ?? false) || error is CancellationError)
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
                open.finish(clientDisconnected: connection?.hasHungUp ?? false)
            } catch {
                open.finish(clientDisconnected: true)
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

/// A request's exchange from its arrival until it is finished, which happens exactly once: when the
/// response has been written, when serving it failed, or — should Hummingbird drop the response
/// unwritten, because the client went away before the head — when this object goes.
final class OpenExchange: Sendable {
    private let exchange: Exchange
    private let finishing: @Sendable (Exchange, Bool) -> Void
    private let connection: ClientConnection?
    private let isOpen = Atomic(true)

    init(_ exchange: Exchange, finishing: @escaping @Sendable (Exchange, Bool) -> Void, connection: ClientConnection?) {
        self.exchange = exchange
        self.finishing = finishing
        self.connection = connection
    }

    /// Finishes the exchange, unless it already was; the connection stops holding the serving task.
    func finish(clientDisconnected: Bool) {
        guard self.isOpen.exchange(false, ordering: .acquiringAndReleasing) else { return }
        self.connection?.endServing()
        self.finishing(self.exchange, clientDisconnected)
    }

    deinit {
        // Nobody wrote the response: the head could not go out, so the client is gone.
        self.finish(clientDisconnected: true)
    }
}
