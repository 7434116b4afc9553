import Foundation
import OrderedCollections
import Telemetry
import Yams

/// Reads LiteLLM-style YAML into a ``GatewayConfiguration``.
///
/// Errors name the YAML path and what was expected there; keys Switchboard does not use are reported
/// as warnings, so a LiteLLM config with settings we lack still starts.
public struct ConfigurationLoader: Sendable {
    /// The environment `os.environ/NAME` references read from.
    public var environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// The configuration, and warnings about what it ignored.
    public struct Result: Sendable {
        public var configuration: GatewayConfiguration
        public var warnings: [String]
    }

    public func load(yaml: String) throws -> Result {
        let root: Node
        do {
            guard let parsed = try Yams.compose(yaml: yaml) else {
                throw ConfigurationError(path: "", message: "the file is empty; expected at least model_list")
            }
            root = parsed
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(path: "", message: "not valid YAML: \(error)")
        }
        var reader = Reader(environment: self.environment)
        let configuration = try reader.read(ConfigNode(node: root, path: ""))
        return Result(configuration: configuration, warnings: reader.warnings)
    }
}

private struct Reader {
    let environment: [String: String]
    var warnings: [String] = []

    init(environment: [String: String]) {
        self.environment = environment
    }

    mutating func read(_ root: ConfigNode) throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration(deployments: [])
        var sawModelList = false
        for (key, value) in try root.mapping() {
            switch key {
            case "model_list":
                sawModelList = true
                configuration.deployments = try value.sequence().map { try self.deployment($0) }
            case "litellm_settings":
                for (setting, node) in try value.mapping() {
                    if setting == "drop_params" {
                        configuration.dropParams = try node.bool()
                    } else {
                        self.ignore(node)
                    }
                }
            case "general_settings":
                for (setting, node) in try value.mapping() {
                    if setting == "master_key" {
                        configuration.masterKey = try self.secret(node)
                    } else {
                        self.ignore(node)
                    }
                }
            case "router_settings":
                for (setting, node) in try value.mapping() {
                    if setting == "model_group_alias" {
                        configuration.aliases = try self.aliases(node)
                    } else {
                        self.ignore(node)
                    }
                }
            case "switchboard":
                configuration.server = try self.serverSettings(value)
            default:
                self.ignore(value)
            }
        }
        guard sawModelList, !configuration.deployments.isEmpty else {
            throw ConfigurationError(path: "model_list", message: "expected a non-empty list of models")
        }
        // LiteLLM's fallback when general_settings has no master_key.
        if configuration.masterKey == nil, let key = self.environment["LITELLM_MASTER_KEY"], !key.isEmpty {
            configuration.masterKey = key
        }
        let (sampler, samplerWarnings) = TraceSampler.fromEnvironment(self.environment)
        configuration.server.tracePolicy.sampler = sampler
        self.warnings += samplerWarnings
        if let routes = self.environment["SWITCHBOARD_EXCLUDED_ROUTES"] {
            configuration.server.tracePolicy.excludedRoutes = try Self.excludedRoutes(fromEnvironment: routes)
        }
        try self.checkNames(configuration)
        return configuration
    }

    private mutating func deployment(_ entry: ConfigNode) throws -> ModelDeployment {
        var modelName: String?
        var params: ConfigNode?
        var baseModel: ConfigNode?
        for (key, value) in try entry.mapping() {
            switch key {
            case "model_name": modelName = try value.string()
            case "litellm_params": params = value
            case "model_info":
                // Descriptive metadata in LiteLLM, except what the deployment really is.
                baseModel = try value.mapping().first { $0.key == "base_model" }?.value
            default: self.ignore(value)
            }
        }
        guard let modelName, !modelName.isEmpty else {
            throw entry.error("expected model_name, the name clients send (such as claude-sonnet-4-5 or claude-*)")
        }
        guard let params else {
            throw entry.error("expected litellm_params with at least `model: <provider>/<model>`")
        }

        var model: (provider: ProviderKind, name: String)?
        var apiKey: String?
        var apiBase: String?
        var parameters: JSONObject = [:]
        var parameterNodes: [String: ConfigNode] = [:]
        for (key, value) in try params.mapping() {
            switch key {
            case "model": model = try self.providerModel(value)
            case "api_key": apiKey = try self.secret(value)
            case "api_base": apiBase = try self.secret(value)
            default:
                parameters[key] = try self.resolved(value.json(), at: value)
                parameterNodes[key] = value
            }
        }
        guard let model else {
            throw params.error("expected model: <provider>/<model>, such as mock/echo or anthropic/claude-sonnet-4-5")
        }
        for (key, node) in parameterNodes
        where !model.provider.acceptedParameters.contains(key) && !ProviderKind.pricingParameters.contains(key) {
            self.warnings.append("\(node.path): not used by the \(model.provider.rawValue) provider; ignored")
            parameters.removeValue(forKey: key)
        }
        // Numbers the provider turns into integers must fit them; a parameter it ignores is only warned about.
        for (key, node) in parameterNodes where parameters[key] != nil {
            if let bound = Self.boundedParameters[key] { _ = try node.double(in: bound.range, bound.what) }
        }
        var deployment = ModelDeployment(
            modelName: modelName,
            provider: model.provider,
            upstreamModel: model.name,
            apiKey: apiKey,
            apiBase: apiBase,
            parameters: parameters,
            origin: entry.path
        )
        if let baseModel {
            deployment.baseModel = try baseModel.string()
            // The rules a Gemini deployment follows come from it, so a name the table does not know is an error
            // rather than a silent fallback to the default it was meant to override.
            if model.provider == .gemini, GeminiModelFamily(baseModel: deployment.baseModel!) == nil {
                throw baseModel.error(
                    "expected the Gemini model this deployment is, such as gemini-3-flash-preview, gemini-2.5-pro "
                        + "or gemini-2.0-flash"
                )
            }
        }
        return deployment
    }

    /// Provider extras that become durations or counts: checked here, so that a huge, infinite or negative
    /// one is an error naming its path rather than a trap in the provider.
    private static let boundedParameters: [String: (range: ClosedRange<Double>, what: String)] = [
        "mock_delay_ms": (0...3_600_000, "a number of milliseconds"),
        "mock_chunk_chars": (1...1_000_000, "a number of characters"),
    ]

    private func providerModel(_ node: ConfigNode) throws -> (ProviderKind, String) {
        let value = try node.string()
        let supported = ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let slash = value.firstIndex(of: "/"), value.index(after: slash) < value.endIndex else {
            throw node.error("expected <provider>/<model> with provider one of \(supported); got \"\(value)\"")
        }
        let prefix = String(value[..<slash])
        guard let provider = ProviderKind(rawValue: prefix) else {
            throw node.error("provider \"\(prefix)\" is not supported by this build; expected one of \(supported)")
        }
        return (provider, String(value[value.index(after: slash)...]))
    }

    private func aliases(_ node: ConfigNode) throws -> [String: String] {
        var aliases: [String: String] = [:]
        for (alias, target) in try node.mapping() {
            if let object = try? target.mapping(), let model = object.first(where: { $0.key == "model" }) {
                aliases[alias] = try model.value.string()  // LiteLLM's {model: …, hidden: …} form
            } else {
                aliases[alias] = try target.string()
            }
        }
        return aliases
    }

    private mutating func serverSettings(_ node: ConfigNode) throws -> ServerSettings {
        var settings = ServerSettings()
        for (key, value) in try node.mapping() {
            switch key {
            case "host": settings.host = try value.string()
            case "port": settings.port = try value.int(in: 0...65_535)
            case "max_request_body_mb":
                // Up to 1 TiB: the byte count must fit an Int whatever the YAML says.
                let megabytes = try value.double(in: 0...1_048_576, "a number of MiB")
                guard megabytes > 0 else { throw value.error("expected a positive number of MiB") }
                settings.requestBodyLimit = max(1, Int(megabytes * 1_048_576))
            case "graceful_shutdown_seconds": settings.gracefulShutdown = try self.duration(value)
            case "upstream_connect_timeout_seconds": settings.upstreamConnectTimeout = try self.duration(value)
            case "upstream_idle_timeout_seconds": settings.upstreamIdleTimeout = try self.duration(value)
            case "metrics_require_auth": settings.metricsRequireAuth = try value.bool()
            case "allow_unauthenticated": settings.allowUnauthenticated = try value.bool()
            case "excluded_routes":
                var routes: Set<ExcludedRoutes.Route> = []
                for entry in try value.sequence() {
                    guard let route = ExcludedRoutes.Route(parsing: try entry.string()) else {
                        throw entry.error("expected \(ExcludedRoutes.expectedForm)")
                    }
                    routes.insert(route)
                }
                settings.tracePolicy.excludedRoutes = ExcludedRoutes(routes)
            case "price_table": settings.priceTablePath = try value.string()
            case "tracing":
                for (option, node) in try value.mapping() {
                    switch option {
                    case "otlp_traces_endpoint": settings.tracesEndpoint = try node.string()
                    case "capture_message_content": settings.captureMessageContent = try node.bool()
                    default: self.ignore(node)
                    }
                }
            case "ping_interval_seconds":
                settings.pingInterval = try self.duration(value)
                guard settings.pingInterval > .zero else { throw value.error("expected a number of seconds above 0") }
            default: self.ignore(value)
            }
        }
        return settings
    }

    /// Seconds, up to a year: any longer is a mistake, and the milliseconds must fit an integer.
    private func duration(_ node: ConfigNode) throws -> Duration {
        .milliseconds(Int64(try node.double(in: 0...31_536_000, "a number of seconds") * 1000))
    }

    /// `SWITCHBOARD_EXCLUDED_ROUTES`: entries separated by commas; `none` traces and logs every route.
    private static func excludedRoutes(fromEnvironment text: String) throws -> ExcludedRoutes {
        guard text.trimmingCharacters(in: .whitespaces).lowercased() != "none" else { return .empty }
        var routes: Set<ExcludedRoutes.Route> = []
        for entry in text.split(separator: ",") {
            guard let route = ExcludedRoutes.Route(parsing: String(entry)) else {
                throw ConfigurationError(
                    path: "SWITCHBOARD_EXCLUDED_ROUTES",
                    message: "expected \(ExcludedRoutes.expectedForm), separated by commas, or none; got \"\(entry)\""
                )
            }
            routes.insert(route)
        }
        return ExcludedRoutes(routes)
    }

    /// A string that may be an `os.environ/NAME` reference.
    private func secret(_ node: ConfigNode) throws -> String {
        try self.resolve(try node.string(), at: node)
    }

    private func resolve(_ value: String, at node: ConfigNode) throws -> String {
        let prefix = "os.environ/"
        guard value.hasPrefix(prefix) else { return value }
        let name = String(value.dropFirst(prefix.count))
        guard let resolved = self.environment[name], !resolved.isEmpty else {
            throw node.error("environment variable \(name) is not set (referenced as \(value))")
        }
        return resolved
    }

    private func resolved(_ value: JSONValue, at node: ConfigNode) throws -> JSONValue {
        if case .string(let text) = value { return .string(try self.resolve(text, at: node)) }
        return value
    }

    private mutating func ignore(_ node: ConfigNode) {
        self.warnings.append("\(node.path): not used by Switchboard; ignored")
    }

    private mutating func checkNames(_ configuration: GatewayConfiguration) throws {
        var seen: [String: String] = [:]
        for deployment in configuration.deployments {
            if let first = seen[deployment.modelName] {
                self.warnings.append(
                    "\(deployment.origin).model_name: \"\(deployment.modelName)\" repeats \(first); the first is used"
                )
            } else {
                seen[deployment.modelName] = deployment.origin
            }
        }
        let table = RouteTable(configuration: GatewayConfiguration(deployments: configuration.deployments))
        for (alias, target) in configuration.aliases.sorted(by: { $0.key < $1.key }) where table.resolve(target) == nil {
            throw ConfigurationError(
                path: "router_settings.model_group_alias.\(alias)",
                message: "expected the model_name of a model_list entry; \"\(target)\" matches none"
            )
        }
    }
}

extension ProviderKind {
    /// LiteLLM's per-deployment price overrides, read for every provider.
    static let pricingParameters: Set<String> = ["input_cost_per_token", "output_cost_per_token"]

    /// The `litellm_params` keys, besides model, api_key and api_base, this provider reads.
    var acceptedParameters: Set<String> {
        switch self {
        case .anthropic: []
        case .mock: ["mock_response", "mock_delay_ms", "mock_chunk_chars", "mock_tool_call"]
        case .gemini: []
        }
    }
}
