import Telemetry

/// One token refresh as it happened, for the refresh counter, the time-to-expiry gauge and the refresh span.
public struct CredentialRefresh: Sendable {
    /// ``GoogleCredentialSource/label``: `vertex_credentials`, `GOOGLE_APPLICATION_CREDENTIALS`, `gcloud`,
    /// `metadata_server`.
    public var source: String
    /// ``GoogleCredentials/typeName``.
    public var typeName: String
    /// The host the grant went to (its last hop), such as `oauth2.googleapis.com`.
    public var serverAddress: String?
    /// The failure's kind (`http_400`, `timeout`, `subject_token`, …); nil on success.
    public var errorType: String?
    /// When the refresh started and ended, in nanoseconds since 1970, for the span.
    public var startUnixNano: UInt64
    public var endUnixNano: UInt64
    /// The new token's lifetime as its issuer gave it; nil on failure.
    public var lifetime: Duration?
    /// When the new token expires, on the store's clock; nil on failure.
    public var expiresAt: ContinuousClock.Instant?
    /// The request whose call started the refresh; nil when none did.
    public var parent: TraceContext?

    /// `success` or `failure`: the `result` metric label.
    public var result: String { self.errorType == nil ? "success" : "failure" }
    public var succeeded: Bool { self.errorType == nil }

    public init(
        source: String,
        typeName: String,
        serverAddress: String? = nil,
        errorType: String? = nil,
        startUnixNano: UInt64,
        endUnixNano: UInt64,
        lifetime: Duration? = nil,
        expiresAt: ContinuousClock.Instant? = nil,
        parent: TraceContext? = nil
    ) {
        self.source = source
        self.typeName = typeName
        self.serverAddress = serverAddress
        self.errorType = errorType
        self.startUnixNano = startUnixNano
        self.endUnixNano = endUnixNano
        self.lifetime = lifetime
        self.expiresAt = expiresAt
        self.parent = parent
    }
}
