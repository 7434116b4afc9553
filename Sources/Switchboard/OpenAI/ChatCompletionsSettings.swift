import Foundation
import Upstream

/// Where an OpenAI-compatible deployment sends its requests and with what credentials, resolved when the
/// configuration loads, so that a missing key or base URL is a start-up error naming the variable to set.
public struct ChatCompletionsSettings: Sendable, Hashable {
    /// The base URL, without a trailing `/`.
    public var base: String
    /// Where ``base`` came from: `api_base`, a variable's name, or `default`.
    public var baseOrigin: String
    public var apiKey: String?
    /// Where ``apiKey`` came from: `api_key`, a variable's name, or `none`.
    public var keyOrigin: String
    /// Azure's `api-version`; nil for every other service.
    public var apiVersion: String?
    /// `extra_headers`: sent with every request, after the gateway's own.
    public var extraHeaders: [String: String]
    /// `organization`: OpenAI's `OpenAI-Organization` header.
    public var organization: String?
    /// `tokenize_url`: a vLLM-style `/tokenize` endpoint that counts tokens for `count_tokens`.
    public var tokenizeURL: String?

    /// Azure's API version when neither `api_version` nor `AZURE_API_VERSION` names one: recent enough for
    /// the o-series and gpt-5 deployments.
    static let defaultAzureAPIVersion = "2025-02-01-preview"

    /// The parameters as the YAML gave them (environment references already resolved).
    struct Parameters {
        var apiVersion: String?
        var extraHeaders: [String: String] = [:]
        var organization: String?
        var tokenizeURL: String?
    }

    /// A deployment these settings cannot serve; `parameter` names the key to point at, when one is to blame.
    struct Problem: Error {
        let message: String
        let parameter: String?
    }

    /// LiteLLM's order: the deployment's `api_base` / `api_key`, then the dialect's variables, then its
    /// default base. A hosted service without a key, or a self-hosted one without a base URL, is a problem.
    static func resolve(
        dialect: ChatCompletionsDialect,
        apiBase: String?,
        apiKey: String?,
        parameters: Parameters,
        environment: [String: String]
    ) throws(Problem) -> ChatCompletionsSettings {
        func fromEnvironment(_ names: [String]) -> (value: String, name: String)? {
            for name in names {
                if let value = environment[name], !value.isEmpty { return (value, name) }
            }
            return nil
        }
        let prefix = dialect.provider.rawValue
        let base: (value: String, origin: String)
        if let apiBase, !apiBase.isEmpty {
            base = (apiBase, "api_base")
        } else if let found = fromEnvironment(dialect.baseVariables) {
            base = (found.value, found.name)
        } else if let fallback = dialect.defaultBase {
            base = (fallback, "default")
        } else {
            let variables = dialect.baseVariables.joined(separator: " or ")
            throw Problem(message: "expected api_base (or \(variables) in the environment): \(prefix)/ has no default server", parameter: nil)
        }
        guard let url = URL(string: base.value), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw Problem(message: "expected an http or https URL for the \(prefix) base; got \"\(base.value)\" (from \(base.origin))", parameter: base.origin == "api_base" ? "api_base" : nil)
        }
        let key: (value: String?, origin: String)
        if let apiKey, !apiKey.isEmpty {
            key = (apiKey, "api_key")
        } else if let found = fromEnvironment(dialect.keyVariables) {
            key = (found.value, found.name)
        } else if dialect.requiresKey {
            let variables = dialect.keyVariables.joined(separator: " or ")
            throw Problem(message: "expected api_key (or \(variables) in the environment) for \(prefix)/", parameter: nil)
        } else {
            key = (nil, "none")
        }
        var settings = ChatCompletionsSettings(
            base: String(base.value.reversed().drop { $0 == "/" }.reversed()),
            baseOrigin: base.origin,
            apiKey: key.value,
            keyOrigin: key.origin,
            apiVersion: nil,
            extraHeaders: parameters.extraHeaders,
            organization: parameters.organization,
            tokenizeURL: parameters.tokenizeURL
        )
        if dialect.provider == .openrouter {
            // OpenRouter ranks apps by these; LiteLLM's variables name them.
            var attribution = ["X-Title": environment["OR_APP_NAME"] ?? "Switchboard"]
            attribution["HTTP-Referer"] = environment["OR_SITE_URL"]
            for (name, value) in attribution
            where !settings.extraHeaders.keys.contains(where: { $0.lowercased() == name.lowercased() }) {
                settings.extraHeaders[name] = value
            }
        }
        if dialect.provider == .azure {
            settings.apiVersion = parameters.apiVersion ?? fromEnvironment(["AZURE_API_VERSION", "OPENAI_API_VERSION"])?.value
                ?? Self.defaultAzureAPIVersion
        } else if parameters.apiVersion != nil {
            throw Problem(message: "api_version is Azure OpenAI's; \(prefix)/ takes none", parameter: "api_version")
        }
        if parameters.organization != nil, dialect.provider != .openai, dialect.provider != .azure {
            throw Problem(message: "organization is OpenAI's; \(prefix)/ takes none", parameter: "organization")
        }
        if let tokenize = parameters.tokenizeURL, URL(string: tokenize)?.host == nil {
            throw Problem(message: "expected an http or https URL; got \"\(tokenize)\"", parameter: "tokenize_url")
        }
        for name in parameters.extraHeaders.keys where !Self.isHeaderName(name) {
            throw Problem(message: "\"\(name)\" is not an HTTP header name", parameter: "extra_headers")
        }
        return settings
    }

    /// The completions URL for `model`. Azure names the deployment in the path (`model` is the deployment),
    /// or, with `api_version: v1` / `latest` / `preview`, uses its version-less v1 API with the model in the body.
    func completionsURL(model: String, dialect: ChatCompletionsDialect) -> String {
        guard dialect.provider == .azure, let version = self.apiVersion else { return self.base + dialect.path }
        if Self.azureV1Versions.contains(version) {
            return self.base + "/openai/v1/chat/completions" + (version == "preview" ? "?api-version=preview" : "")
        }
        let deployment = model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? model
        return self.base + "/openai/deployments/\(deployment)/chat/completions?api-version=\(version)"
    }

    /// Azure's version-less API, which takes the model in the body like OpenAI's.
    static let azureV1Versions: Set<String> = ["v1", "latest", "preview"]

    /// Whether the body must name the model: everywhere but on an Azure deployment URL.
    func bodyNamesModel(dialect: ChatCompletionsDialect) -> Bool {
        dialect.provider != .azure || self.apiVersion.map(Self.azureV1Versions.contains) ?? true
    }

    /// The headers of every request: content type, the key as the service wants it, the organization,
    /// then `extra_headers` (OpenRouter's app attribution among them).
    func headers(dialect: ChatCompletionsDialect) -> UpstreamHeaders {
        var headers: UpstreamHeaders = ["content-type": "application/json"]
        if let key = self.apiKey {
            if dialect.provider == .azure {
                headers.add(name: "api-key", value: key)
            } else {
                headers.add(name: "authorization", value: "Bearer \(key)")
            }
        }
        if let organization = self.organization { headers.add(name: "openai-organization", value: organization) }
        for (name, value) in self.extraHeaders.sorted(by: { $0.key < $1.key }) {
            headers.add(name: name, value: value)
        }
        return headers
    }

    /// RFC 9110 token characters.
    private static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }
}
