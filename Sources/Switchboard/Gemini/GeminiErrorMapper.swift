import NIOCore
import Upstream

/// Gemini's HTTP errors as the Anthropic errors Claude Code knows how to handle. AI Studio and Vertex AI
/// word them alike (`google.rpc.Status`); Vertex authenticates with access tokens rather than keys, and a
/// model it does not serve in a location gets advice on where it is served.
struct GeminiErrorMapper: UpstreamErrorReader {
    /// On Vertex AI: the model asked for and the location asked in; nil on AI Studio.
    var vertex: (model: String, location: String)? = nil

    /// `body` is Gemini's `{"error": {"code", "message", "status", "details": [{"reason"}, {"retryDelay"}]}}`,
    /// or whatever a proxy in between sent instead.
    func error(status: Int, body: ByteBuffer, headers: UpstreamHeaders) -> AnthropicError {
        let error = (try? body.withUnsafeReadableBytes { try JSONParser.parse($0) })?["error"]
        let fallback = String(buffer: body).prefix(500).description
        return self.map(status: status, error: error, fallbackMessage: fallback, retryAfterHeader: headers["retry-after"])
    }

    /// The error object Gemini puts in a stream that began with 200 (`data: {"error": {…}}`): its `code`
    /// is the HTTP status it would have answered with.
    static func midStream(_ error: JSONValue) -> AnthropicError {
        let status: Int
        if case .number(let code)? = error["code"], let exact = Int(exactly: code), (400..<600).contains(exact) {
            status = exact
        } else {
            status = 500
        }
        return GeminiErrorMapper().map(
            status: status, error: error, fallbackMessage: "gemini reported an error mid-stream", retryAfterHeader: nil
        )
    }

    /// Gemini's own cases first (a bad key is a 400 with a reason; context overflow has its own wording),
    /// then the shared status mapping.
    private func map(status: Int, error: JSONValue?, fallbackMessage: String, retryAfterHeader: String?) -> AnthropicError {
        let message = error?["message"]?.stringValue ?? fallbackMessage
        let details: [JSONValue] = if case .array(let details)? = error?["details"] { details } else { [] }
        let reasons = Set(details.compactMap { $0["reason"]?.stringValue })

        if let overflow = Self.contextOverflow(in: message) {
            return .invalidRequest("prompt is too long: \(overflow.tokens) tokens > \(overflow.maximum) maximum")
        }
        if let vertex = self.vertex {
            switch status {
            case 401:
                return .authentication(
                    "vertex_ai rejected the access token: \(message) (renew Application Default Credentials with "
                        + "`gcloud auth application-default login`, or check the service account key)"
                )
            case 404:
                let advice = VertexLocationAdvice.advice(model: vertex.model, location: vertex.location)
                return .notFound("vertex_ai: \(message) \(advice)")
            default:
                break
            }
        } else if status == 401 || (status == 400 && reasons.contains("API_KEY_INVALID")) {
            return .authentication("gemini rejected the API key: \(message)")
        }
        let delay = details.lazy.compactMap { $0["retryDelay"]?.stringValue }.first.flatMap(Self.seconds)
        return AnthropicError(
            upstreamStatus: status,
            message: "\(self.vertex == nil ? "gemini" : "vertex_ai"): \(message)",
            retryAfterSeconds: retryAfterHeader ?? delay.map(String.init)
        )
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
