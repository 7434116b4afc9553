import Foundation

/// Where a Vertex AI model answers:
/// `https://{host}/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`.
///
/// `{host}` is `aiplatform.googleapis.com` for `global` (never `global-aiplatform…`, which does not
/// exist), `aiplatform.{us|eu}.rep.googleapis.com` for the multi-regions, and `{location}-aiplatform…`
/// otherwise. An `api_base` replaces the host the way LiteLLM does: a base without a path, or ending
/// in `/v1` or `/v1beta1`, gets the rest of the path grafted on; any other path is the model's own URL
/// and only `:{method}` is appended.
struct VertexEndpoint: Sendable, Hashable {
    /// Whose models: Google's Gemini, or Anthropic's Claude (Model Garden partner models).
    enum Publisher: String, Sendable {
        case google
        case anthropic

        /// Claude's ids begin with `claude`; every other id is one of Google's.
        init(model: String) {
            self = model.hasPrefix("claude") ? .anthropic : .google
        }
    }

    let location: String
    let apiBase: String?

    init(location: String, apiBase: String? = nil) {
        self.location = location
        var base = apiBase
        while base?.hasSuffix("/") == true { base?.removeLast() }
        self.apiBase = base
    }

    /// The host that serves `location`.
    static func host(for location: String) -> String {
        switch location {
        case "global": "aiplatform.googleapis.com"
        case "us", "eu": "aiplatform.\(location).rep.googleapis.com"
        default: "\(location)-aiplatform.googleapis.com"
        }
    }

    /// The URL of `method` (`generateContent`, `streamRawPredict`, …; a query such as `?alt=sse` may
    /// follow it) on `model` of `publisher` in `project`.
    func url(project: String, publisher: Publisher, model: String, method: String) -> String {
        let resource = "projects/\(Self.segment(project))/locations/\(Self.segment(self.location))"
            + "/publishers/\(publisher.rawValue)/models/\(Self.segment(model)):\(method)"
        guard let base = self.apiBase else {
            return "https://\(Self.host(for: self.location))/v1/\(resource)"
        }
        let path = Self.path(of: base)
        if path.isEmpty { return "\(base)/v1/\(resource)" }
        if path.hasSuffix("/v1") || path.hasSuffix("/v1beta1") { return "\(base)/\(resource)" }
        return "\(base):\(method)"
    }

    /// Where requests go, for `switchboard check`: the `api_base`, or the location's resource URL.
    func describe(project: String?) -> String {
        self.apiBase ?? "https://\(Self.host(for: self.location))/v1/projects/\(project ?? "{project}")/locations/\(self.location)"
    }

    /// The path of a URL (`http://h:p/v1` → `/v1`), empty when it has none.
    private static func path(of url: String) -> String {
        guard let scheme = url.range(of: "://") else { return "" }
        let afterHost = url[scheme.upperBound...].drop { $0 != "/" }
        return String(afterHost)
    }

    /// RFC 3986 unreserved characters and `@` (Claude's `claude-sonnet-4-5@20250929`): everything else in a
    /// path segment is encoded, so an id or a project can never add a segment or a method.
    private static let segmentCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~@"
    )

    private static func segment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: Self.segmentCharacters) ?? value
    }
}
