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
    let upstream: UpstreamClient
    let signatures: ThoughtSignatures
    let dropParams: Bool
    let pingInterval: Duration
    /// From `model_info.base_model`; nil lets each request's model id decide.
    private let family: GeminiModelFamily?
    private let base: String
    private let apiKey: String?

    init(
        deployment: ModelDeployment,
        upstream: UpstreamClient,
        signatures: ThoughtSignatures,
        dropParams: Bool,
        pingInterval: Duration
    ) {
        self.deployment = deployment
        self.upstream = upstream
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
        let url = "\(self.base)/models/\(model):" + (streaming ? "streamGenerateContent?alt=sse" : "generateContent")
        // While Gemini thinks in silence, the upstream's heartbeat becomes a `ping` for the client:
        // Claude Code gives up on a stream after five minutes without a byte.
        let request = UpstreamRequest(
            method: "POST", url: url, headers: self.headers, body: body, heartbeat: streaming ? self.pingInterval : nil
        )

        call.exchange.mark(.upstreamRequestSent)
        let first = try await self.open(request, exchange: call.exchange)
        call.exchange.mark(.firstUpstreamByte)

        let declared = Set(translation.request.tools?.flatMap { $0.functionDeclarations.map(\.name) } ?? [])
        let signatures = self.signatures
        let webSearch = translation.webSearch
        let events = GeminiEventSequence(
            first: first,
            isStreaming: streaming,
            exchange: call.exchange,
            reopen: { [exchange = call.exchange] in try await self.open(request, exchange: exchange) },
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
        let request = UpstreamRequest(method: "POST", url: "\(self.base)/models/\(model):countTokens", headers: self.headers, body: body)
        do {
            let response = try await self.open(request, exchange: nil)
            let counted = try await response.collectBody(upTo: 1 << 20)
            let json = try counted.withUnsafeReadableBytes { try JSONParser.parse($0) }
            let total: Int = try JSONObjectReader(json).required("totalTokens")
            return .tokenCount(total, estimated: false)
        } catch {
            // The upstream could not count; an estimate beats failing Claude Code's context accounting.
            return .tokenCount(TokenEstimator.inputTokens(of: call.request), estimated: true)
        }
    }

    private var headers: UpstreamHeaders {
        var headers: UpstreamHeaders = ["content-type": "application/json"]
        if let apiKey = self.apiKey { headers.add(name: "x-goog-api-key", value: apiKey) }
        return headers
    }

    /// Sends `request`; a non-200 answer becomes the Anthropic error Claude Code expects, and the
    /// upstream failure is noted on `exchange`.
    private func open(_ request: UpstreamRequest, exchange: Exchange?) async throws -> UpstreamResponse {
        var request = request
        if let exchange {
            request.headers.add(name: "traceparent", value: exchange.beginUpstreamAttempt(url: request.url))
        }
        let response: UpstreamResponse
        do {
            response = try await self.upstream.execute(request)
        } catch let error as UpstreamError {
            exchange?.update { $0.upstreamError = error.kind.description }
            throw AnthropicError(upstream: error, provider: "gemini")
        }
        guard response.status == 200 else {
            exchange?.update { $0.upstreamError = "http_\(response.status)" }
            let body = (try? await response.collectBody(upTo: 1 << 20)) ?? ByteBuffer()
            throw GeminiErrorMapper.map(status: response.status, body: body, retryAfterHeader: response.headers["retry-after"])
        }
        return response
    }

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
