/// Something a translator had to change, drop or guess on the way between protocols. Each one is
/// recorded on the ``Exchange``; metrics count them by kind, so problems with tool calls show up.
public struct TranslationEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A tool schema was rewritten to suit the provider (`$schema` dropped, `$ref` inlined, …).
        case schemaRewritten = "schema_rewritten"
        /// The provider rejected a tool schema.
        case schemaRejected = "schema_rejected"
        /// Tool-call arguments were not a JSON object and were wrapped.
        case argumentsNotObject = "arguments_not_object"
        /// The model called a tool the request did not declare.
        case unknownTool = "unknown_tool"
        /// A Gemini 3 thought signature was unknown, and the documented dummy went in its place.
        case signatureFallback = "signature_fallback"
        /// The model produced a malformed or unexpected tool call.
        case malformedCall = "malformed_call"
        /// A tool_result named no tool_use that came before it.
        case resultWithoutCall = "result_without_call"
        /// A content block or tool the provider cannot take was dropped.
        case contentDropped = "content_dropped"
        /// A request parameter was cut to fit the provider (stop sequences, max tokens).
        case parameterClamped = "parameter_clamped"
    }

    public let kind: Kind
    /// What happened, for logs and span events; never message content.
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
}
