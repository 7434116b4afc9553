import NIOCore

/// Gemini's HTTP errors as the Anthropic errors Claude Code knows how to handle.
enum GeminiErrorMapper {
    /// `body` is Gemini's `{"error": {"code", "message", "status", "details": [{"reason"}, {"retryDelay"}]}}`,
    /// or whatever a proxy in between sent instead.
    static func map(status: Int, body: ByteBuffer, retryAfterHeader: String?) -> AnthropicError {
        let error = (try? body.withUnsafeReadableBytes { try JSONParser.parse($0) })?["error"]
        let message = error?["message"]?.stringValue ?? String(buffer: body).prefix(500).description
        let details: [JSONValue] = if case .array(let details)? = error?["details"] { details } else { [] }
        let reasons = Set(details.compactMap { $0["reason"]?.stringValue })

        if let overflow = Self.contextOverflow(in: message) {
            return .invalidRequest("prompt is too long: \(overflow.tokens) tokens > \(overflow.maximum) maximum")
        }
        switch status {
        case 400 where reasons.contains("API_KEY_INVALID"), 401:
            return .authentication("gemini rejected the API key: \(message)")
        case 403:
            return AnthropicError(status: 403, type: "permission_error", message: "gemini: \(message)")
        case 404:
            return .notFound("gemini: \(message)")
        case 429:
            var headers: [String: String] = [:]
            let delay = details.lazy.compactMap { $0["retryDelay"]?.stringValue }.first.flatMap(Self.seconds)
            if let seconds = retryAfterHeader ?? delay.map(String.init) { headers["retry-after"] = seconds }
            return AnthropicError(status: 429, type: "rate_limit_error", message: "gemini: \(message)", headers: headers)
        case 503:
            return AnthropicError(status: 529, type: "overloaded_error", message: "gemini: \(message)")
        case 504:
            return .timeout("gemini: \(message)")
        case 400..<500:
            return .invalidRequest("gemini: \(message)")
        default:
            return .api("gemini: \(message)", status: status >= 500 ? status : 502)
        }
    }

    /// "The input token count (1300000) exceeds the maximum number of tokens allowed (1048575)."
    static func contextOverflow(in message: String) -> (tokens: Int, maximum: Int)? {
        guard message.contains("input token count"), message.contains("exceeds the maximum") else { return nil }
        let numbers = message.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count >= 2 else { return nil }
        return (numbers[0], numbers[1])
    }

    /// `"7s"` or `"1.5s"` → whole seconds, rounded up; nil for what is no plausible delay (`"infs"`, `"-1s"`,
    /// `"1e30s"`), which would not fit an `Int`.
    private static func seconds(_ delay: String) -> Int? {
        guard delay.hasSuffix("s"), let value = Double(delay.dropLast()), (0...86_400 * 365).contains(value) else { return nil }
        return Int(value.rounded(.up))
    }
}
