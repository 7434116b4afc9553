import HTTPTypes
import Hummingbird
import NIOCore

/// Hummingbird's request context, carrying the request's ``Exchange`` from stage to stage.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let exchange: Exchange
    /// The client's connection, to notice the client hanging up.
    public let channel: any Channel
    /// The virtual key that reads its own `/key/info`; nil on every other request.
    var caller: KeyIdentity?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        let requestID = source.logger[metadataKey: "hb.request.id"]?.description ?? "unknown"
        self.exchange = Exchange(record: ExchangeRecord(requestID: requestID, method: "", route: ""))
    }
}
