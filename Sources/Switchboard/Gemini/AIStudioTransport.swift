import Foundation
import Upstream

/// `gemini/<model>`: Google AI Studio, `{api_base}/models/{model}:{method}` with the key in
/// `x-goog-api-key`; `api_base` replaces `https://generativelanguage.googleapis.com/v1beta`, as in LiteLLM.
struct AIStudioTransport: GeminiTransport {
    static let defaultBase = "https://generativelanguage.googleapis.com/v1beta"

    private let base: String
    private let headers: UpstreamHeaders

    init(deployment: ModelDeployment, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var base = deployment.apiBase ?? Self.defaultBase
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        var headers: UpstreamHeaders = ["content-type": "application/json"]
        if let apiKey = deployment.apiKey ?? environment["GEMINI_API_KEY"] {
            headers.add(name: "x-goog-api-key", value: apiKey)
        }
        self.headers = headers
    }

    func errors(model: String) -> GeminiErrorMapper { GeminiErrorMapper() }

    func countTokensShape(model: String) -> GeminiCountTokensRequest.Shape {
        .wrapped(model: model)
    }

    /// `{base}/models/{model}:{method}` (`tunedModels/…` for a tuned model), the id percent-encoded as one
    /// path segment: it was validated when routed, and encoding keeps it one segment regardless.
    func endpoint(model: String, method: GeminiMethod, call: ProviderCall) -> GeminiEndpoint {
        let tuned = "tunedModels/"
        let (collection, id) = model.hasPrefix(tuned) ? ("tunedModels", String(model.dropFirst(tuned.count))) : ("models", model)
        let segment = id.addingPercentEncoding(withAllowedCharacters: Self.pathSegmentCharacters) ?? id
        return GeminiEndpoint(url: "\(self.base)/\(collection)/\(segment):\(method.pathSuffix)", headers: self.headers)
    }

    /// RFC 3986 unreserved characters: everything else in a model id is encoded.
    private static let pathSegmentCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
    )
}
