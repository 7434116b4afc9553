import HTTPTypes
import Hummingbird
import NIOCore
import Telemetry

/// `GET /metrics`: Prometheus text 0.0.4, or OpenMetrics 1.0 with exemplars when `Accept` asks for it
/// (Prometheus does); gzip when `Accept-Encoding` allows.
struct MetricsEndpoint: Sendable {
    let registry: MetricsRegistry

    func scrape(_ request: Request, context: GatewayRequestContext) -> Response {
        let format = MetricsExposition.Format(accept: request.headers[.accept])
        let text = MetricsExposition.render(self.registry, format: format)
        var headers: HTTPFields = [.contentType: format.contentType]
        if request.headers[.acceptEncoding]?.contains("gzip") == true {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Gzip.compress(Array(text.utf8)))))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
