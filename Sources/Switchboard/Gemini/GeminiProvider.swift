import Foundation
import NIOCore
import Upstream

/// `gemini/<model>`: Google AI Studio's Gemini API, translated both ways.
///
/// Requests go to `{api_base}/models/{model}:streamGenerateContent?alt=sse` when the client streams
/// (`:generateContent` otherwise) with the key in `x-goog-api-key`; `api_base` replaces
/// `https://generativelanguage.googleapis.com/v1beta`, as in LiteLLM.
struct GeminiProvider: Provider {
    static let defaultBase = "https://generativelanguage.googleapis.com/v1beta"

    let deployment: ModelDeployment
    let signatures: ThoughtSignatures
    let dropParams: Bool
    let pingInterval: Duration
    /// From `model_info.base_model`; nil lets each request's model id decide.
    private let family: GeminiModelFamily?
    private let base: String
    private let apiKey: String?

    init(
        deployment: ModelDeployment,
        signatures: ThoughtSignatures,
        dropParams: Bool,
        pingInterval: Duration
    ) {
        self.deployment = deployment
        self.signatures = signatures
        self.dropParams = dropParams
        self.pingInterval = pingInterval
        self.family = deployment.baseModel.flatMap(GeminiModelFamily.init(baseModel:))
        var base = deployment.apiBase ?? Self.defaultBase
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.apiKey = deployment.apiKey ?? ProcessInfo.processInfo.environment["GEMINI_API_KEY"]
    }

    func sendMessage(_ call: ProviderCall) async throws -> ProviderReply {
        let model = Self.bareModel(call.route.upstreamModel)
        let translator = GeminiRequestTranslator(
            model: model, family: self.family, dropParams: self.dropParams, signatures: self.signatures
        )
        let translation = try translator.translate(call.request)
        if !translation.events.isEmpty {
            call.exchange.update { $0.translationEvents += translation.events }
        }
        let body = Self.encode(translation.request, sizedLike: call.body)
        let streaming = call.request.isStreaming
        let url = self.url(model: model, method: streaming ? "streamGenerateContent?alt=sse" : "generateContent")
        // While Gemini thinks in silence, the upstream's heartbeat becomes a `ping` for the client:
        // Claude Code gives up on a stream after five minutes without a byte.
        let request = UpstreamRequest(
            method: "POST", url: url, headers: self.headers, body: body, heartbeat: streaming ? self.pingInterval : nil
        )

        let first = try await call.upstream.send(request, errors: GeminiErrorMapper())

        let declared = Set(translation.request.tools?.flatMap { $0.functionDeclarations.map(\.name) } ?? [])
        let signatures = self.signatures
        let webSearch = translation.webSearch
        let events = GeminiEventSequence(
            first: first,
            isStreaming: streaming,
            exchange: call.exchange,
            reopen: { [upstream = call.upstream] in try await upstream.send(request, errors: GeminiErrorMapper()) },
            makeTranslator: {
                GeminiResponseTranslator(
                    model: model, declaredTools: declared, signatures: signatures, webSearch: webSearch
                )
            }
        )
        return .events(events)
    }

    func countTokens(_ call: ProviderCall) async throws -> ProviderReply {
        let model = Self.bareModel(call.route.upstreamModel)
        let translator = GeminiRequestTranslator(
            model: model, family: self.family, dropParams: true, signatures: self.signatures
        )
        let body = Self.encode(try translator.countTokensRequest(call.request), sizedLike: call.body)
        let request = UpstreamRequest(method: "POST", url: self.url(model: model, method: "countTokens"), headers: self.headers, body: body)
        do {
            let response = try await call.upstream.send(request, errors: GeminiErrorMapper())
            let counted = try await response.collectBody(upTo: 1 << 20)
            let json = try counted.withUnsafeReadableBytes { try JSONParser.parse($0) }
            let total: Int = try JSONObjectReader(json).required("totalTokens")
            return .tokenCount(total, estimated: false)
        } catch where !(error is CancellationError) {
            // The upstream could not count; an estimate beats failing Claude Code's context accounting.
            return .tokenCount(TokenEstimator.inputTokens(of: call.request), estimated: true)
        }
    }

    private var headers: UpstreamHeaders {
        var headers: UpstreamHeaders = ["content-type": "application/json"]
        if let apiKey = self.apiKey { headers.add(name: "x-goog-api-key", value: apiKey) }
        return headers
    }

    /// `{base}/models/{model}:{method}` (`tunedModels/…` for a tuned model), the id percent-encoded as one
    /// path segment: it was validated when routed, and encoding keeps it one segment regardless.
    private func url(model: String, method: String) -> String {
        let tuned = "tunedModels/"
        let (collection, id) = model.hasPrefix(tuned) ? ("tunedModels", String(model.dropFirst(tuned.count))) : ("models", model)
        let segment = id.addingPercentEncoding(withAllowedCharacters: Self.pathSegmentCharacters) ?? id
        return "\(self.base)/\(collection)/\(segment):\(method)"
    }

    /// RFC 3986 unreserved characters: everything else in a model id is encoded.
    private static let pathSegmentCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
    )

    /// The id without its `models/` prefix.
    private static func bareModel(_ model: String) -> String {
        model.hasPrefix("models/") ? String(model.dropFirst(7)) : model
    }

    /// The Gemini body is about as large as the client's, so one allocation holds it.
    private static func encode(_ value: some JSONWritable, sizedLike clientBody: ByteBuffer) -> ByteBuffer {
        var writer = JSONWriter(capacity: clientBody.readableBytes + 1024)
        writer.value(value)
        return ByteBuffer(bytes: writer.bytes)
    }
}
