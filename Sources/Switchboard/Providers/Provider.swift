import NIOCore

/// A stream of Anthropic events, as a translating provider produces them.
public typealias AnthropicEventStream = any AsyncSequence<AnthropicEvent, any Error> & Sendable
/// Bytes to forward unchanged.
public typealias ByteStream = any AsyncSequence<ByteBuffer, any Error> & Sendable

/// Sends Anthropic Messages requests somewhere and answers in Anthropic's terms.
///
/// A provider translates and talks to its upstream, always through the call's ``UpstreamCall``, which
/// does the accounting of each attempt (spans, timings, failures, the error the client sees).
public protocol Provider: Sendable {
    /// Answers `POST /v1/messages`.
    func sendMessage(_ call: ProviderCall) async throws -> ProviderReply
    /// Answers `POST /v1/messages/count_tokens`.
    func countTokens(_ call: ProviderCall) async throws -> ProviderReply
}

/// One request on its way to a provider.
public struct ProviderCall: Sendable {
    public let request: AnthropicRequest
    /// The client's body, exactly as it arrived.
    public let body: ByteBuffer
    public let route: Route
    /// Client headers a provider may forward (`anthropic-version`, `anthropic-beta`), lower-cased names.
    public let forwardedHeaders: [String: String]
    /// The query string of the client's request, without `?` (Claude Code sends `beta=true`).
    public let query: String?
    /// The way to the upstream: every attempt goes through it.
    public let upstream: UpstreamCall

    /// The request's record, for translation notes.
    public var exchange: Exchange { self.upstream.exchange }

    public init(
        request: AnthropicRequest,
        body: ByteBuffer,
        route: Route,
        forwardedHeaders: [String: String] = [:],
        query: String? = nil,
        upstream: UpstreamCall
    ) {
        self.request = request
        self.body = body
        self.route = route
        self.forwardedHeaders = forwardedHeaders
        self.query = query
        self.upstream = upstream
    }
}

/// What a provider answers with.
public enum ProviderReply: Sendable {
    /// Anthropic events: written as SSE, or folded into one message for a non-streaming client.
    case events(AnthropicEventStream)
    /// A token count for `count_tokens`; `estimated` when no upstream counted it.
    case tokenCount(Int, estimated: Bool)
    /// An upstream answer already in Anthropic's format, forwarded byte for byte.
    case passthrough(status: Int, headers: [(name: String, value: String)], body: ByteStream)
}
