import NIOCore

/// Watches one client connection for the client going away — the end of its input (a hang-up, since
/// Hummingbird allows half-closure) or the channel closing — and tells its ``ClientConnection``.
/// Passes everything on unchanged.
final class ClientConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let connections: ClientConnections
    private let connection = ClientConnection()

    init(connections: ClientConnections) {
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.connections.register(self.connection, for: context.channel)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.connections.remove(context.channel)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            self.connection.clientDidHangUp()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connection.clientDidHangUp()
        self.connections.remove(context.channel)
        context.fireChannelInactive()
    }
}
