import NIOCore
import Upstream

/// Every OpenAI-compatible service (`openai/`, `azure/`, `deepseek/`, `groq/`, `ollama/`, …), translated both
/// ways; the ``ChatCompletionsDialect`` and the deployment's ``ChatCompletionsSettings`` say where and how.
struct ChatCompletionsProvider: Provider {
    let dialect: ChatCompletionsDialect
    let settings: ChatCompletionsSettings
    let dropParams: Bool
    let pingInterval: Duration
    private let headers: UpstreamHeaders
    private let errors: ChatCompletionsErrorMapper

    init(dialect: ChatCompletionsDialect, settings: ChatCompletionsSettings, dropParams: Bool, pingInterval: Duration) {
        self.dialect = dialect
        self.settings = settings
        self.dropParams = dropParams
        self.pingInterval = pingInterval
        self.headers = settings.headers(dialect: dialect)
        self.errors = ChatCompletionsErrorMapper(provider: dialect.provider.rawValue)
    }

    func sendMessage(_ call: ProviderCall) async throws -> ProviderReply {
        let model = call.route.upstreamModel
        let translation = try self.translator(model: model).translate(call.request)
        if !translation.events.isEmpty {
            call.exchange.update { $0.translationEvents += translation.events }
        }
        let streaming = call.request.isStreaming
        let request = UpstreamRequest(
            method: "POST",
            url: self.settings.completionsURL(model: model, dialect: self.dialect),
            headers: self.headers,
            body: Self.encode(translation.body, sizedLike: call.body),
            // While a model reasons in silence, the upstream's heartbeat becomes a `ping` for the client.
            heartbeat: streaming ? self.pingInterval : nil
        )
        let errors = self.errors
        let first = try await call.upstream.send(request, errors: errors)
        let declared = translation.declaredTools
        return .events(
            TranslatedEventSequence(
                provider: self.dialect.provider.rawValue,
                first: first,
                isStreaming: streaming,
                exchange: call.exchange,
                reopen: { [upstream = call.upstream] in try await upstream.send(request, errors: errors) },
                makeTranslation: { ChatCompletionsResponseTranslator(model: model, declaredTools: declared, errors: errors) }
            )
        )
    }

    /// The Chat Completions API has no counting endpoint: a vLLM-style `tokenize_url` counts when the
    /// deployment names one, else the gateway estimates and says so.
    func countTokens(_ call: ProviderCall) async throws -> ProviderReply {
        guard let tokenizeURL = self.settings.tokenizeURL else {
            return .tokenCount(TokenEstimator.inputTokens(of: call.request), estimated: true)
        }
        do {
            var body = try self.translator(model: call.route.upstreamModel).translate(call.request).body
            // vLLM's /tokenize takes the model and the messages (tools in recent versions), nothing else.
            body = body.filter { ["model", "messages", "tools"].contains($0.key) }
            body["model"] = .string(call.route.upstreamModel)
            let request = UpstreamRequest(
                method: "POST", url: tokenizeURL, headers: self.headers, body: Self.encode(body, sizedLike: call.body)
            )
            let response = try await call.upstream.send(request, errors: self.errors)
            let counted = try await response.collectBody(upTo: 16 << 20)
            let json = try counted.withUnsafeReadableBytes { try JSONParser.parse($0) }
            let count: Int = try JSONObjectReader(json).required("count")
            return .tokenCount(count, estimated: false)
        } catch where !(error is CancellationError) {
            // The tokenizer could not count; an estimate beats failing Claude Code's context accounting.
            return .tokenCount(TokenEstimator.inputTokens(of: call.request), estimated: true)
        }
    }

    private func translator(model: String) -> ChatCompletionsRequestTranslator {
        ChatCompletionsRequestTranslator(
            model: model, dialect: self.dialect, dropParams: self.dropParams,
            namesModel: self.settings.bodyNamesModel(dialect: self.dialect)
        )
    }

    /// The body is about as large as the client's, so one allocation holds it.
    private static func encode(_ body: JSONObject, sizedLike clientBody: ByteBuffer) -> ByteBuffer {
        var writer = JSONWriter(capacity: clientBody.readableBytes + 1024)
        writer.value(.object(body))
        return ByteBuffer(bytes: writer.bytes)
    }
}
