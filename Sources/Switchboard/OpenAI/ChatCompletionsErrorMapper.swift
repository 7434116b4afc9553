import NIOCore
import Upstream

/// OpenAI-style errors (`{"error": {"message", "type", "param", "code"}}`) as the Anthropic errors Claude
/// Code knows how to handle: a context overflow becomes Anthropic's `prompt is too long` wording (which
/// Claude Code reacts to by compacting), a rate limit keeps its delay in `retry-after`.
struct ChatCompletionsErrorMapper: UpstreamErrorReader {
    /// The prefix, for messages (`deepseek: …`).
    let provider: String

    func error(status: Int, body: ByteBuffer, headers: UpstreamHeaders) -> AnthropicError {
        let json = try? body.withUnsafeReadableBytes { try JSONParser.parse($0) }
        // Most services wrap it in `error`; some proxies send the object bare, or a string.
        let error = json?["error"] ?? json
        let message = error?["message"]?.stringValue ?? error?.stringValue ?? json?["detail"]?.stringValue
            ?? String(buffer: body).prefix(500).description
        return self.map(
            status: status, message: message, code: error?["code"]?.stringValue ?? error?["type"]?.stringValue,
            retryAfter: Self.retryAfterSeconds(headers)
        )
    }

    /// The error object a service puts in a stream that began with 200 (`data: {"error": {…}}`).
    func midStream(_ error: JSONValue) -> AnthropicError {
        var status = 500
        if case .number(let code)? = error["code"], let exact = Int(exactly: code), (400..<600).contains(exact) {
            status = exact
        } else if let type = error["type"]?.stringValue {
            status = Self.status(forType: type)
        }
        return self.map(
            status: status, message: error["message"]?.stringValue ?? "\(self.provider) reported an error mid-stream",
            code: error["code"]?.stringValue, retryAfter: nil
        )
    }

    private func map(status: Int, message: String, code: String?, retryAfter: String?) -> AnthropicError {
        if let overflow = Self.contextOverflow(in: message) {
            return .invalidRequest("prompt is too long: \(overflow.tokens) tokens > \(overflow.maximum) maximum")
        }
        if code == "context_length_exceeded" {
            return .invalidRequest("prompt is too long: \(self.provider): \(message)")
        }
        if status == 401 {
            return .authentication("\(self.provider) rejected the API key: \(message)")
        }
        return AnthropicError(upstreamStatus: status, message: "\(self.provider): \(message)", retryAfterSeconds: retryAfter)
    }

    private static func status(forType type: String) -> Int {
        switch type {
        case "invalid_request_error": 400
        case "authentication_error": 401
        case "permission_error": 403
        case "not_found_error": 404
        case "rate_limit_error", "rate_limit_exceeded", "insufficient_quota": 429
        case "server_overloaded", "overloaded_error": 529
        default: 500
        }
    }

    /// The token counts in the overflow wordings of OpenAI and vLLM ("This model's maximum context length is
    /// 128000 tokens. However, your messages resulted in 130532 tokens."), DeepSeek ("…maximum context length
    /// is 65536 tokens. However, you requested 70000 tokens…") and Mistral/Groq ("Prompt contains 40000
    /// tokens … too large for model with 32768 maximum context length").
    static func contextOverflow(in message: String) -> (tokens: Int, maximum: Int)? {
        let lowered = message.lowercased()
        guard lowered.contains("context length") || lowered.contains("context window") else { return nil }
        let numbers = message.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.filter { $0 >= 16 }
        guard numbers.count >= 2 else { return nil }
        if lowered.contains("maximum context length is") {
            return (numbers[1], numbers[0])  // the maximum is named first
        }
        return (numbers[0], numbers[1])
    }

    /// `retry-after` (seconds), else `retry-after-ms`, else the later of OpenAI's
    /// `x-ratelimit-reset-requests` / `-tokens` (Go durations: `1s`, `6m0s`, `120ms`): whole seconds, up.
    static func retryAfterSeconds(_ headers: UpstreamHeaders) -> String? {
        if let seconds = headers["retry-after"], let value = Double(seconds), value >= 0 { return String(Int(value.rounded(.up))) }
        if let ms = headers["retry-after-ms"], let value = Double(ms), value >= 0 { return String(Int((value / 1000).rounded(.up))) }
        let resets = ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"].compactMap { headers[$0] }.compactMap(Self.goDuration)
        guard let longest = resets.max() else { return nil }
        return String(Int(longest.rounded(.up)))
    }

    /// A Go duration (`1h2m3.5s`, `250ms`) in seconds; nil for anything else.
    static func goDuration(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while let character = rest.first {
            if character.isNumber || character == "." {
                number.append(character)
                rest.removeFirst()
                continue
            }
            guard let value = Double(number) else { return nil }
            let scale: Double
            if rest.hasPrefix("ms") { scale = 0.001; rest.removeFirst(2) }
            else if rest.hasPrefix("us") || rest.hasPrefix("µs") { scale = 0.000_001; rest.removeFirst(2) }
            else if rest.hasPrefix("ns") { scale = 0.000_000_001; rest.removeFirst(2) }
            else if rest.hasPrefix("h") { scale = 3600; rest.removeFirst() }
            else if rest.hasPrefix("m") { scale = 60; rest.removeFirst() }
            else if rest.hasPrefix("s") { scale = 1; rest.removeFirst() }
            else { return nil }
            total += value * scale
            number = ""
        }
        guard number.isEmpty, total <= 86_400 * 365 else { return nil }
        return total
    }
}
