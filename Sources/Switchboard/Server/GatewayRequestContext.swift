import HTTPTypes
import Hummingbird

/// Hummingbird's request context, carrying the request's ``Exchange`` from stage to stage.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let exchange: Exchange

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let requestID = source.logger[metadataKey: "hb.request.id"]?.description ?? "unknown"
        self.exchange = Exchange(record: ExchangeRecord(requestID: requestID, method: "", route: ""))
    }
}
