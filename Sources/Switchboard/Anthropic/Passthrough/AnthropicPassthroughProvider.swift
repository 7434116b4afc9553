import Foundation
import NIOCore
import Upstream

/// `anthropic/<model>`: forwards the client's request to Anthropic's Messages API (or `api_base`)
/// byte for byte except the model name, and streams the answer back as it arrives, errors included.
struct AnthropicPassthroughProvider: Provider {
    static let defaultBase = "https://api.anthropic.com"
    static let defaultVersion = "2023-06-01"

    let deployment: ModelDeployment
    private let base: String
    private let apiKey: String?

    init(deployment: ModelDeployment) {
        self.deployment = deployment
        var base = deployment.apiBase ?? Self.defaultBase
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }  // accept a base written with or without /v1
        self.base = base
        self.apiKey = deployment.apiKey ?? ProcessInfo.processInfo.environment["ANTHROPIC_API_KEY"]
    }

    func sendMessage(_ call: ProviderCall) async throws -> ProviderReply {
        try await self.forward(call, path: "/v1/messages")
    }

    func countTokens(_ call: ProviderCall) async throws -> ProviderReply {
        try await self.forward(call, path: "/v1/messages/count_tokens")
    }

    private func forward(_ call: ProviderCall, path: String) async throws -> ProviderReply {
        let model = call.route.upstreamModel
        let body = call.request.model == model ? call.body : ModelFieldRewriter.rewrite(call.body, model: model)
        guard let body else { throw AnthropicError.invalidRequest("model: field required at the top level") }

        var headers: UpstreamHeaders = ["content-type": "application/json"]
        headers.add(name: "anthropic-version", value: call.forwardedHeaders["anthropic-version"] ?? Self.defaultVersion)
        if let beta = call.forwardedHeaders["anthropic-beta"] { headers.add(name: "anthropic-beta", value: beta) }
        if let apiKey = self.apiKey { headers.add(name: "x-api-key", value: apiKey) }
        let url = self.base + path + (call.query.map { "?\($0)" } ?? "")

        let response = try await call.upstream.forward(UpstreamRequest(method: "POST", url: url, headers: headers, body: body))
        let forwarded = response.headers.filter { !HopByHop.isExcluded($0.name) }.map { ($0.name, $0.value) }
        return .passthrough(status: response.status, headers: forwarded, body: response.body)
    }
}

/// Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus framing Switchboard redoes.
enum HopByHop {
    private static let names: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "content-length", "date", "server",
    ]

    static func isExcluded(_ name: String) -> Bool {
        Self.names.contains(name.lowercased())
    }
}
