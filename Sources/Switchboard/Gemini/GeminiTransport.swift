import Upstream

/// How Gemini requests reach a model: Google AI Studio with an API key, or Vertex AI with a Google
/// access token. One translator serves both; the URL, the credentials, the `countTokens` body and the
/// wording of errors are the transport's.
protocol GeminiTransport: Sendable {
    /// How `countTokens` wants its body.
    func countTokensShape(model: String) -> GeminiCountTokensRequest.Shape
    /// The URL of `method` on `model` and the headers that authorize it, for the request `call`.
    func endpoint(model: String, method: GeminiMethod, call: ProviderCall) async throws -> GeminiEndpoint
    /// Reads the upstream's error answers to requests for `model`.
    func errors(model: String) -> GeminiErrorMapper
}

/// Where one Gemini request goes.
struct GeminiEndpoint: Sendable {
    var url: String
    var headers: UpstreamHeaders
}

/// The Gemini API methods Switchboard calls.
enum GeminiMethod: Sendable {
    case generateContent
    /// As server-sent events (`?alt=sse`): without it the API streams one JSON array.
    case streamGenerateContent
    case countTokens

    /// What follows the model id's `:` in the URL.
    var pathSuffix: String {
        switch self {
        case .generateContent: "generateContent"
        case .streamGenerateContent: "streamGenerateContent?alt=sse"
        case .countTokens: "countTokens"
        }
    }
}
