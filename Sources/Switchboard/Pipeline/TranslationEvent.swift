/// Something a translator had to change, drop or guess on the way between protocols. Each one is
/// recorded on the ``Exchange``; metrics count them, expected rewrites apart from errors (see
/// ``Kind/isError``), so problems with tool calls show up.
public struct TranslationEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A tool schema was rewritten to suit the provider without loosening it (`$schema` dropped, `$ref`
        /// inlined, a recursive definition kept in `$defs`, …): routine, most requests have some.
        case schemaRewritten = "schema_rewritten"
        /// Part of a tool schema could not go to the provider and was cut (a `$ref` that resolves nowhere,
        /// a schema that is not an object), so the model sees a looser schema than the client declared.
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
        /// A tool_use had no tool_result after it; an upstream that requires one (OpenAI's) got a note instead.
        case callWithoutResult = "call_without_result"
        /// A content block or tool the provider cannot take was dropped.
        case contentDropped = "content_dropped"
        /// A request parameter was cut to fit the provider (stop sequences, max tokens).
        case parameterClamped = "parameter_clamped"

        /// Something lost or guessed, rather than a rewrite the provider's rules call for on every request.
        public var isError: Bool { self != .schemaRewritten }
    }

    public let kind: Kind
    /// What happened, for logs and span events; never message content.
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
}
