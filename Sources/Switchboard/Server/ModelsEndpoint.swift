import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

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

        var writer = JSONWriter()
        writer.object { writer in
            writer.key("data")
            writer.array { writer in
                for name in page {
                    writer.object { writer in
                        writer.field("type", "model")
                        writer.field("id", name)
                        writer.field("display_name", name)
                        writer.field("created_at", self.createdAt)
                    }
                }
            }
            writer.key("first_id")
            writer.value(page.first.map(JSONValue.string) ?? .null)
            writer.key("last_id")
            writer.value(page.last.map(JSONValue.string) ?? .null)
            writer.field("has_more", candidates.count > page.count)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}
