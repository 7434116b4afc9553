import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP/1.1 server whose every answer is a script: the handler decides, byte by byte and
/// pause by pause, what the client sees — including answers no well-behaved server gives (a reset
/// mid-body, silence). The fake upstreams are handlers on it.
public final class ScriptedHTTPServer: Sendable {
    /// A request as the server received it, body complete.
    public struct Request: Sendable {
        public let method: String
        public let uri: String
        public let headers: [(name: String, value: String)]
        public let body: ByteBuffer
        /// How many requests the connection carried before this one: 0 on a fresh connection. A client
        /// may silently resend a request that found a reused connection dead (curl does).
        public let indexOnConnection: Int

        /// The path without the query.
        public var path: String { String(self.uri.prefix { $0 != "?" }) }

        /// The first value of the header `name`, ignoring case.
        public func header(_ name: String) -> String? {
            self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    public typealias Handler = @Sendable (Request, ResponseWriter) async throws -> Void

    /// Writes one response. The handler must end it, or reset the connection.
    public struct ResponseWriter: Sendable {
        fileprivate let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
        fileprivate let channel: any Channel

        /// Sends the status line and headers. Without a `content-length`, the body is chunked.
        public func writeHead(status: Int, headers: [(String, String)] = []) async throws {
            var fields = HTTPHeaders()
            for (name, value) in headers { fields.add(name: name, value: value) }
            let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: fields)
            try await self.outbound.write(.head(head))
        }

        public func writeBody(_ bytes: ByteBuffer) async throws {
            try await self.outbound.write(.body(.byteBuffer(bytes)))
        }

        public func writeBody(_ text: String) async throws {
            try await self.writeBody(ByteBuffer(string: text))
        }

        public func end() async throws {
            try await self.outbound.write(.end(nil))
        }

        /// A whole response in one call.
        public func respond(status: Int, headers: [(String, String)] = [], body: String) async throws {
            let bytes = ByteBuffer(string: body)
            try await self.writeHead(status: status, headers: headers + [("content-length", "\(bytes.readableBytes)")])
            try await self.writeBody(bytes)
            try await self.end()
        }

        /// Drops the connection with a TCP reset (SO_LINGER 0), as a crashed or hostile peer would.
        public func resetConnection() async {
            if let socket = self.channel as? any SocketOptionProvider {
                try? await socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            }
            try? await self.channel.close()
        }
    }

    /// The port the server listens on, on 127.0.0.1.
    public let port: Int
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    private let acceptLoop: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let connectionCount = Mutex(0)
    private let closedCount = Mutex(0)

    /// The number of TCP connections accepted so far.
    public var acceptedConnections: Int { self.connectionCount.withLock { $0 } }

    /// The number of accepted connections that have closed since, for whatever reason; while a handler
    /// is still answering, only the client can have closed one.
    public var closedConnections: Int { self.closedCount.withLock { $0 } }

    /// The base URL, `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(self.port)" }

    /// Starts a server on 127.0.0.1 (port 0 picks a free one) that answers with `handler`.
    public static func start(port: Int = 0, handler: @escaping Handler) async throws -> ScriptedHTTPServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        let server = ScriptedHTTPServer(channel: channel)
        server.acceptLoop.withLock { $0 = Task { await server.acceptConnections(handler: handler) } }
        return server
    }

    private init(channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>) {
        self.serverChannel = channel
        self.port = channel.channel.localAddress?.port ?? 0
    }

    /// Stops listening and drops every open connection.
    public func stop() async {
        let task = self.acceptLoop.withLock { $0 }
        task?.cancel()
        try? await self.serverChannel.channel.close()
        await task?.value
    }

    private func acceptConnections(handler: @escaping Handler) async {
        try? await withThrowingDiscardingTaskGroup { group in
            try await self.serverChannel.executeThenClose { inbound in
                for try await connection in inbound {
                    self.connectionCount.withLock { $0 += 1 }
                    connection.channel.closeFuture.whenComplete { _ in self.closedCount.withLock { $0 += 1 } }
                    group.addTask { await Self.serve(connection, handler: handler) }
                }
            }
        }
    }

    private static func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
        handler: Handler
    ) async {
        let channel = connection.channel
        try? await withTaskCancellationHandler {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var served = 0
                for try await part in inbound {
                    switch part {
                    case .head(let received):
                        head = received
                        body.clear()
                    case .body(var chunk):
                        body.writeBuffer(&chunk)
                    case .end:
                        guard let received = head else { continue }
                        let request = Request(
                            method: received.method.rawValue,
                            uri: received.uri,
                            headers: received.headers.map { ($0.name, $0.value) },
                            body: body,
                            indexOnConnection: served
                        )
                        served += 1
                        try await handler(request, ResponseWriter(outbound: outbound, channel: channel))
                        guard channel.isActive else { return }
                    }
                }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}
