import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Telemetry

/// `GET /v1/models`: the configured model names (and aliases) in Anthropic's list format, so gateway
/// model discovery (`CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY`) finds them. Wildcards are not
/// listable names and are left out.
struct ModelsEndpoint: Sendable {
    let names: [String]
    /// `created_at` for every entry: when this configuration was loaded.
    let createdAt: String

    init(routes: RouteTable, loadedAt: Date = Date()) {
        self.names = routes.concreteModelNames
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        self.createdAt = formatter.string(from: loadedAt)
    }

    func list(_ request: Request, context: GatewayRequestContext) throws -> Response {
        let query = request.uri.queryParameters
        var limit = 20
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw AnthropicError.invalidRequest("limit: Input should be an integer from 1 to 1000")
            }
            limit = value
        }
        var candidates = self.names[...]
        if let after = query["after_id"].map(String.init) {
            candidates = candidates.drop { $0 != after }.dropFirst()
        }
        if let before = query["before_id"].map(String.init) {
            candidates = candidates.prefix { $0 != before }.suffix(limit)
        }
        let page = Array(candidates.prefix(limit))

        var body = #"{"data":["#
        for (index, name) in page.enumerated() {
            if index > 0 { body += "," }
            body += #"{"type":"model","id":"# + JSONText.quoted(name) + #","display_name":"# + JSONText.quoted(name)
            body += #","created_at":"# + JSONText.quoted(self.createdAt) + "}"
        }
        body += #"],"first_id":"# + (page.first.map(JSONText.quoted) ?? "null")
        body += #","last_id":"# + (page.last.map(JSONText.quoted) ?? "null")
        body += #","has_more":\#(candidates.count > page.count)}"#
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
