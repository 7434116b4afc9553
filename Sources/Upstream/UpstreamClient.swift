import CCurl
import Foundation

/// An HTTP client on libcurl's multi interface: one thread, many concurrent streamed transfers.
///
/// ```swift
/// let client = UpstreamClient()
/// let response = try await client.execute(UpstreamRequest(method: "POST", url: url, body: body))
/// for try await chunk in response.body { … }
/// await client.shutdown()
/// ```
///
/// `execute` returns as soon as the response head has arrived; the body follows as an async sequence
/// with backpressure. Cancelling the calling task, or dropping the body, removes the transfer at once.
public final class UpstreamClient: Sendable {
    /// How the client connects and waits.
    public struct Configuration: Sendable {
        /// The longest a TCP (and TLS) connect may take.
        public var connectTimeout: Duration
        /// The longest wait for the next byte while the consumer wants one. Generous by default:
        /// a model may think for minutes before its first byte.
        public var idleTimeout: Duration
        /// Connections kept open for reuse.
        public var maximumCachedConnections: Int
        /// Where requests go through a proxy.
        public var proxy: ProxySettings
        /// A PEM file of certificate authorities to trust instead of the system's (a corporate CA, a
        /// test server's own certificate). Defaults to `SSL_CERT_FILE`, as Python's HTTP clients do.
        public var caBundlePath: String?

        public init(
            connectTimeout: Duration = .seconds(10),
            idleTimeout: Duration = .seconds(600),
            maximumCachedConnections: Int = 64,
            proxy: ProxySettings = ProxySettings(environment: ProcessInfo.processInfo.environment),
            caBundlePath: String? = ProcessInfo.processInfo.environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        ) {
            self.connectTimeout = connectTimeout
            self.idleTimeout = idleTimeout
            self.maximumCachedConnections = maximumCachedConnections
            self.proxy = proxy
            self.caBundlePath = caBundlePath
        }
    }

    public let configuration: Configuration
    private let loop: CurlMultiLoop

    /// curl's global setup, once per process, before the first handle. Thread-safe in libcurl ≥ 7.84
    /// built with the `threadsafe` feature; the lazy static also orders it for older builds.
    static let initializeCurlOnce: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        // With CURLOPT_NOSIGNAL curl no longer shields us from SIGPIPE on a peer that hung up.
        signal(SIGPIPE, SIG_IGN)
    }()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.loop = CurlMultiLoop(configuration: configuration)
    }

    /// Sends `request` and returns when the response head arrives.
    ///
    /// - Throws: ``UpstreamError`` when no response head arrives: refused, unresolvable, TLS failure,
    ///   timeout, reset, or the calling task was cancelled.
    public func execute(_ request: UpstreamRequest) async throws -> UpstreamResponse {
        try await self.execute(self.makeTransfer(for: request))
    }

    /// The transfer `execute(_:)` would run for `request`; tests hold it weakly to see it freed.
    func makeTransfer(for request: UpstreamRequest) -> CurlTransfer {
        CurlTransfer(request: request, idleTimeout: request.idleTimeout ?? self.configuration.idleTimeout)
    }

    /// Runs `transfer` until its response head arrives.
    func execute(_ transfer: CurlTransfer) async throws -> UpstreamResponse {
        let delegate = CurlTransferDelegate(loop: self.loop, transfer: transfer)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                self.loop.submit(.add(transfer, CurlTransfer.Caller(continuation: continuation, delegate: delegate)))
            }
        } onCancel: {
            self.loop.submit(.cancel(transfer))
        }
    }

    /// Stops the loop thread; transfers still running fail with ``UpstreamError/Kind/shutDown``.
    public func shutdown() async {
        await self.loop.shutdown()
    }

    /// Transfers in flight now: started and not yet finished, failed or cancelled.
    public var activeTransfers: Int { self.loop.activeTransfers.load(ordering: .relaxed) }

    /// How many times a transfer paused because its consumer read slower than the upstream sent.
    public var backpressurePauses: Int { self.loop.statistics.pauses.load(ordering: .relaxed) }

    /// How many times another thread woke the loop thread: a transfer starting, a paused one resuming,
    /// or one cancelled while it ran.
    public var loopWakeups: Int { self.loop.statistics.commands.load(ordering: .relaxed) }

    /// How many times the loop thread went round; an idle or paused transfer must not add many.
    public var loopTurns: Int { self.loop.statistics.turns.load(ordering: .relaxed) }

    /// The libcurl version this client runs on, such as `"7.88.1"`.
    public static var curlVersion: String {
        _ = initializeCurlOnce
        return String(cString: ccurl_version_info().pointee.version)
    }
}
