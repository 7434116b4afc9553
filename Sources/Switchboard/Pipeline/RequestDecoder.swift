import NIOCore

/// Stage 1: client bytes → ``AnthropicRequest``, or a 400 that says exactly what is wrong and where.
enum RequestDecoder {
    /// Decodes a Messages request; `requireMaxTokens` is false for `count_tokens`.
    static func decode(_ body: ByteBuffer, requireMaxTokens: Bool) throws -> AnthropicRequest {
        let request: AnthropicRequest
        do {
            let json = try body.withUnsafeReadableBytes { try JSONParser.parse($0) }
            request = try AnthropicRequest(json: json)
        } catch let error as JSONSyntaxError {
            throw AnthropicError.invalidRequest("The request body is not valid JSON: \(error)")
        } catch let error as JSONFieldError {
            throw AnthropicError.invalidRequest(error.message)
        }
        if requireMaxTokens {
            guard let maxTokens = request.maxTokens else { throw AnthropicError.invalidRequest("max_tokens: Field required") }
            guard maxTokens >= 0 else { throw AnthropicError.invalidRequest("max_tokens: must be 0 or greater") }
        }
        if request.model.isEmpty { throw AnthropicError.invalidRequest("model: must not be empty") }
        return request
    }
}
