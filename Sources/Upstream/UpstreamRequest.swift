import NIOCore

/// One HTTP request to an upstream server.
public struct UpstreamRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: UpstreamHeaders
    /// The whole request body. Bodies sent to model providers are built in memory, so there is no
    /// streamed upload.
    public var body: ByteBuffer?
    /// Overrides the client's connect timeout for this request.
    public var connectTimeout: Duration?
    /// Overrides the client's idle timeout for this request: the longest wait for the next byte while
    /// the consumer wants one.
    public var idleTimeout: Duration?
    /// When set, the body yields an empty chunk each time this long passes without a byte while the
    /// consumer waits for one, so that a stream relaying this body can show the client it is alive.
    public var heartbeat: Duration?
    /// The most the whole exchange may take, head and body; past it the transfer fails with `timeout`.
    public var timeout: Duration?

    public init(
        method: String = "GET",
        url: String,
        headers: UpstreamHeaders = [:],
        body: ByteBuffer? = nil,
        connectTimeout: Duration? = nil,
        idleTimeout: Duration? = nil,
        heartbeat: Duration? = nil,
        timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.heartbeat = heartbeat
        self.timeout = timeout
    }
}
