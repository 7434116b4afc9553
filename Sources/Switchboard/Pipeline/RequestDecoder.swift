import Foundation
import NIOCore

/// Stage 1: client bytes → ``AnthropicRequest``, or a 400 that says exactly what is wrong and where.
enum RequestDecoder {
    /// Decodes a Messages request; `requireMaxTokens` is false for `count_tokens`.
    static func decode(_ body: ByteBuffer, requireMaxTokens: Bool) throws -> AnthropicRequest {
        let request: AnthropicRequest
        do {
            request = try body.withUnsafeReadableBytes { bytes in
                try JSONDecoder().decode(AnthropicRequest.self, from: Data(bytes))
            }
        } catch let error as DecodingError {
            throw AnthropicError.invalidRequest(Self.describe(error))
        }
        if requireMaxTokens {
            guard let maxTokens = request.maxTokens else { throw AnthropicError.invalidRequest("max_tokens: Field required") }
            guard maxTokens >= 0 else { throw AnthropicError.invalidRequest("max_tokens: must be 0 or greater") }
        }
        if request.model.isEmpty { throw AnthropicError.invalidRequest("model: must not be empty") }
        return request
    }

    /// Anthropic's style: `messages.0.content: <what is wrong>`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey], appending key: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "The request body is not valid JSON"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath, appending: key)): Field required"
        case .typeMismatch(let type, let context):
            let location = context.codingPath.isEmpty ? "body" : path(context.codingPath)
            return "\(location): Input should be \(Self.describe(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): Input should be \(Self.describe(type)), not null"
        @unknown default:
            return "The request body is not a valid Messages request"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a valid string"
        case is Int.Type: "a valid integer"
        case is Double.Type: "a valid number"
        case is Bool.Type: "a valid boolean"
        case is [Any].Type: "a valid list"
        default:
            String(describing: type).hasPrefix("Array") ? "a valid list" : "a valid object"
        }
    }
}
