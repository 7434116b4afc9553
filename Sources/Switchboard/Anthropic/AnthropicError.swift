import HTTPTypes
import Hummingbird
import NIOCore

/// An error a client sees, in the Anthropic shape: `{"type":"error","error":{"type":…,"message":…}}`.
///
/// Every failure that reaches a client passes through this type, so clients written for Anthropic
/// (Claude Code, the SDKs) recognise and retry it as they would Anthropic's own.
public struct AnthropicError: Error, Sendable, Hashable, HTTPResponseError {
    /// The HTTP status.
    public let statusCode: Int
    /// Anthropic's `error.type`, such as `invalid_request_error`.
    public let type: String
    /// What went wrong, for a person. Never carries a key or token.
    public let message: String
    /// Extra response headers, such as `retry-after`.
    public let headers: [String: String]

    public init(status: Int, type: String, message: String, headers: [String: String] = [:]) {
        self.statusCode = status
        self.type = type
        self.message = message
        self.headers = headers
    }

    public static func invalidRequest(_ message: String) -> AnthropicError {
        AnthropicError(status: 400, type: "invalid_request_error", message: message)
    }

    public static func authentication(_ message: String) -> AnthropicError {
        AnthropicError(status: 401, type: "authentication_error", message: message)
    }

    public static func notFound(_ message: String) -> AnthropicError {
        AnthropicError(status: 404, type: "not_found_error", message: message)
    }

    public static func requestTooLarge(limit: Int) -> AnthropicError {
        AnthropicError(status: 413, type: "request_too_large", message: "request body exceeds the limit of \(limit) bytes")
    }

    public static func api(_ message: String, status: Int = 500) -> AnthropicError {
        AnthropicError(status: status, type: "api_error", message: message)
    }

    public static func timeout(_ message: String) -> AnthropicError {
        AnthropicError(status: 504, type: "timeout_error", message: message)
    }

    public var status: HTTPResponse.Status { .init(code: self.statusCode) }

    /// The JSON body: the same JSON as the `error` event of a stream.
    public var body: ByteBuffer {
        var writer = JSONWriter()
        AnthropicEvent.error(self).write(to: &writer)
        return ByteBuffer(bytes: writer.bytes)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in self.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: self.status, headers: fields, body: .init(byteBuffer: self.body))
    }
}

extension AnthropicError {
    /// The Anthropic error `type` Anthropic's API uses for `status`.
    static func type(forStatus status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 409: "conflict_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 504: "timeout_error"
        case 529: "overloaded_error"
        case 400..<500: "invalid_request_error"
        default: "api_error"
        }
    }
}
