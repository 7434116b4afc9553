/// Why an upstream exchange failed, with libcurl's own words for it.
///
/// A struct over a private code, so kinds can be added without breaking callers. ``kind`` is short and
/// bounded, safe to use as a metric label; ``message`` carries curl's detail for logs.
public struct UpstreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String, Hashable, Sendable {
            case connectionRefused = "connection_refused"
            case dnsFailure = "dns_failure"
            case tlsFailure = "tls_failure"
            case timeout
            case connectionReset = "connection_reset"
            case cancelled
            case shutDown = "shut_down"
            case invalidRequest = "invalid_request"
            case other
        }
        private let code: Code

        /// Nothing listens at the address, or the connection attempt failed.
        public static let connectionRefused = Kind(code: .connectionRefused)
        /// The host (or proxy) name did not resolve.
        public static let dnsFailure = Kind(code: .dnsFailure)
        /// The TLS handshake or certificate check failed.
        public static let tlsFailure = Kind(code: .tlsFailure)
        /// Connecting took longer than the connect timeout, or no byte arrived for the idle timeout.
        public static let timeout = Kind(code: .timeout)
        /// The connection broke after it was established: reset, closed early, or a truncated body.
        public static let connectionReset = Kind(code: .connectionReset)
        /// The caller stopped waiting (task cancelled or body sequence dropped).
        public static let cancelled = Kind(code: .cancelled)
        /// The client was shut down before or during the transfer.
        public static let shutDown = Kind(code: .shutDown)
        /// The request itself could not be handed to curl (malformed URL, unsupported scheme, …).
        public static let invalidRequest = Kind(code: .invalidRequest)
        /// Any other transport failure.
        public static let other = Kind(code: .other)

        public var description: String { self.code.rawValue }
    }

    /// The kind of failure; bounded, fit for a metric label.
    public let kind: Kind
    /// What went wrong, in curl's words where curl said something.
    public let message: String
    /// The `CURLcode` behind the failure, when there was one.
    public let curlCode: Int?

    public init(kind: Kind, message: String, curlCode: Int? = nil) {
        self.kind = kind
        self.message = message
        self.curlCode = curlCode
    }

    public var description: String { "\(self.kind): \(self.message)" }
}
