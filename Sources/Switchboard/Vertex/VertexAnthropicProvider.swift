import NIOCore
import Upstream

/// `vertex_ai/claude-…`: Claude on Vertex AI, billed to the Google Cloud project.
///
/// The client's body goes to `publishers/anthropic/models/{model}:streamRawPredict` (`:rawPredict` when it
/// does not stream) without its `model`, which the URL names, and with `anthropic_version:
/// vertex-2023-10-16`; the answer streams back byte for byte, as with `anthropic/`. `count_tokens` goes to
/// `count-tokens:rawPredict`, which reads the model from the body. Vertex's own errors (Google's
/// `google.rpc.Status`: a missing model, a denied project) become Anthropic errors; Claude's pass through.
struct VertexAnthropicProvider: Provider {
    static let anthropicVersion = "vertex-2023-10-16"

    let access: VertexAccess

    func sendMessage(_ call: ProviderCall) async throws -> ProviderReply {
        let body = try Self.body(call, model: nil)
        let method = call.request.isStreaming ? "streamRawPredict" : "rawPredict"
        return try await self.forward(body, model: call.route.upstreamModel, method: method, call)
    }

    func countTokens(_ call: ProviderCall) async throws -> ProviderReply {
        let body = try Self.body(call, model: call.route.upstreamModel)
        return try await self.forward(body, model: "count-tokens", method: "rawPredict", call)
    }

    private static func body(_ call: ProviderCall, model: String?) throws -> ByteBuffer {
        guard let body = ModelFieldRewriter.vertexBody(call.body, version: Self.anthropicVersion, model: model) else {
            throw AnthropicError.invalidRequest("body: expected a JSON object")
        }
        return body
    }

    private func forward(_ body: ByteBuffer, model: String, method: String, _ call: ProviderCall) async throws
        -> ProviderReply
    {
        let endpoint = try await self.access.prepare(publisher: .anthropic, model: model, method: method, call: call)
        var headers = endpoint.headers
        if let beta = call.forwardedHeaders["anthropic-beta"] { headers.add(name: "anthropic-beta", value: beta) }
        let request = UpstreamRequest(method: "POST", url: endpoint.url, headers: headers, body: body)
        let response = try await call.upstream.forward(request)
        let forwarded = response.headers.filter { !HopByHop.isExcluded($0.name) }.map { ($0.name, $0.value) }
        guard response.status >= 400 else {
            return .passthrough(status: response.status, headers: forwarded, body: response.body)
        }
        let answer = (try? await response.collectBody(upTo: 1 << 20)) ?? ByteBuffer()
        if Self.isAnthropicError(answer) {
            throw AnthropicError(passthroughStatus: response.status, body: answer, headers: forwarded)
        }
        let mapper = GeminiErrorMapper(vertex: (call.route.upstreamModel, self.access.settings.location))
        throw mapper.error(status: response.status, body: Self.firstStatus(answer), headers: response.headers)
    }

    /// Claude's own errors: `{"type": "error", "error": {"type": …, "message": …}}`.
    private static func isAnthropicError(_ body: ByteBuffer) -> Bool {
        let json = try? body.withUnsafeReadableBytes { try JSONParser.parse($0) }
        return json?["type"]?.stringValue == "error"
    }

    /// Vertex sometimes wraps its `{"error": …}` in an array; the mapper reads the object.
    private static func firstStatus(_ body: ByteBuffer) -> ByteBuffer {
        guard let json = try? body.withUnsafeReadableBytes({ try JSONParser.parse($0) }),
            case .array(let list) = json, let first = list.first
        else { return body }
        var writer = JSONWriter()
        writer.value(first)
        return ByteBuffer(bytes: writer.bytes)
    }
}
