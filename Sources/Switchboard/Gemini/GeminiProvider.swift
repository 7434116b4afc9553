import NIOCore
import Upstream

/// Gemini models, translated both ways: `gemini/<model>` on Google AI Studio and `vertex_ai/gemini-…` on
/// Vertex AI. The ``GeminiTransport`` says where requests go and how they are authorized.
struct GeminiProvider: Provider {
    let transport: any GeminiTransport
    let signatures: ThoughtSignatures
    let dropParams: Bool
    let pingInterval: Duration
    /// From `model_info.base_model`; nil lets each request's model id decide.
    private let family: GeminiModelFamily?

    init(
        deployment: ModelDeployment,
        transport: any GeminiTransport,
        signatures: ThoughtSignatures,
        dropParams: Bool,
        pingInterval: Duration
    ) {
        self.transport = transport
        self.signatures = signatures
        self.dropParams = dropParams
        self.pingInterval = pingInterval
        self.family = deployment.baseModel.flatMap(GeminiModelFamily.init(baseModel:))
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
        let endpoint = try await self.transport.endpoint(
            model: model, method: streaming ? .streamGenerateContent : .generateContent, call: call
        )
        // While Gemini thinks in silence, the upstream's heartbeat becomes a `ping` for the client:
        // Claude Code gives up on a stream after five minutes without a byte.
        let request = UpstreamRequest(
            method: "POST", url: endpoint.url, headers: endpoint.headers, body: body,
            heartbeat: streaming ? self.pingInterval : nil
        )
        let errors = self.transport.errors(model: model)
        let first = try await call.upstream.send(request, errors: errors)

        let declared = Set(translation.request.tools?.flatMap { $0.functionDeclarations.map(\.name) } ?? [])
        let signatures = self.signatures
        let webSearch = translation.webSearch
        let events = TranslatedEventSequence(
            provider: "gemini",
            first: first,
            isStreaming: streaming,
            exchange: call.exchange,
            reopen: { [upstream = call.upstream] in try await upstream.send(request, errors: errors) },
            makeTranslation: {
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
        let counting = try translator.countTokensRequest(call.request, shape: self.transport.countTokensShape(model: model))
        let body = Self.encode(counting, sizedLike: call.body)
        let endpoint = try await self.transport.endpoint(model: model, method: .countTokens, call: call)
        let request = UpstreamRequest(method: "POST", url: endpoint.url, headers: endpoint.headers, body: body)
        do {
            let response = try await call.upstream.send(request, errors: self.transport.errors(model: model))
            let counted = try await response.collectBody(upTo: 1 << 20)
            let json = try counted.withUnsafeReadableBytes { try JSONParser.parse($0) }
            let total: Int = try JSONObjectReader(json).required("totalTokens")
            return .tokenCount(total, estimated: false)
        } catch where !(error is CancellationError) {
            // The upstream could not count; an estimate beats failing Claude Code's context accounting.
            return .tokenCount(TokenEstimator.inputTokens(of: call.request), estimated: true)
        }
    }

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
