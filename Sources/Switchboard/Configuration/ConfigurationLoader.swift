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
        var litellmRouter = RouterSettings()
        var routerNode: ConfigNode?
        var switchboardRouter = SwitchboardRouting()
        for (key, value) in try root.mapping() {
            switch key {
            case "model_list":
                sawModelList = true
                configuration.deployments = try value.sequence().map { try self.deployment($0) }
            case "litellm_settings":
                for (setting, node) in try value.mapping() {
                    switch setting {
                    case "drop_params": configuration.dropParams = try node.bool()
                    // LiteLLM reads these here too; router_settings, read after, wins where both are set.
                    case "num_retries", "fallbacks", "default_fallbacks", "context_window_fallbacks",
                        "content_policy_fallbacks", "retry_policy", "allowed_fails", "cooldown_time":
                        try self.routerSetting(setting, node, into: &litellmRouter)
                    case "request_timeout": litellmRouter.timeout = try self.duration(node)
                    case "max_budget": configuration.governance.maxBudget = try node.double(in: 0...1e12, "US dollars")
                    case "budget_duration": configuration.governance.budgetDuration = try self.budgetDuration(node)
                    default: self.ignore(node)
                    }
                }
            case "general_settings":
                for (setting, node) in try value.mapping() {
                    switch setting {
                    case "master_key": configuration.masterKey = try self.secret(node)
                    case "database_url": configuration.database = try self.database(node)
                    case "on_store_failure":
                        let text = try node.string()
                        guard let policy = StoreFailurePolicy(rawValue: text) else {
                            throw node.error("expected one of \(StoreFailurePolicy.allCases.map(\.rawValue).joined(separator: ", ")); got \"\(text)\"")
                        }
                        configuration.governance.onStoreFailure = policy
                    case "database_connection_pool_limit":
                        configuration.governance.databasePoolSize = try node.int(in: 1...1_000)
                    default: self.ignore(node)
                    }
                }
            case "router_settings":
                routerNode = value
            case "switchboard":
                configuration.server = try self.serverSettings(value, router: &switchboardRouter, governance: &configuration.governance)
            default:
                self.ignore(value)
            }
        }
        guard sawModelList, !configuration.deployments.isEmpty else {
            throw ConfigurationError(path: "model_list", message: "expected a non-empty list of models")
        }
        configuration.router = litellmRouter
        if let routerNode {
            for (setting, node) in try routerNode.mapping() {
                if setting == "model_group_alias" {
                    configuration.aliases = try self.aliases(node)
                } else {
                    try self.routerSetting(setting, node, into: &configuration.router)
                }
            }
        }
        switchboardRouter.apply(to: &configuration.router)
        configuration.deployments = Self.named(configuration.deployments)
        // LiteLLM's fallback when general_settings has no master_key.
        if configuration.masterKey == nil, let key = self.environment["LITELLM_MASTER_KEY"], !key.isEmpty {
            configuration.masterKey = key
        }
        if configuration.database == nil, let url = self.environment["DATABASE_URL"], !url.isEmpty {
            configuration.database = try self.database(url: url) { ConfigurationError(path: "DATABASE_URL", message: $0) }
        }
        if configuration.database != nil, configuration.masterKey == nil {
            // Keys are administered with the master key; without one the key API would be open to anyone.
            throw ConfigurationError(path: "general_settings.database_url", message: "virtual keys need general_settings.master_key (or LITELLM_MASTER_KEY)")
        }
        if configuration.masterKey != nil, configuration.database == nil {
            let directory = configuration.governance.stateDirectory.map { $0.hasSuffix("/") ? $0 : $0 + "/" } ?? ""
            configuration.database = .sqlite(path: directory + "switchboard.db")
        }
        if configuration.masterKey == nil, !configuration.governance.keys.isEmpty || !configuration.governance.teams.isEmpty {
            throw ConfigurationError(path: "switchboard.virtual_keys", message: "virtual keys need general_settings.master_key (or LITELLM_MASTER_KEY)")
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
        var accessGroups: ConfigNode?
        var id: ConfigNode?
        for (key, value) in try entry.mapping() {
            switch key {
            case "model_name": modelName = try value.string()
            case "litellm_params": params = value
            case "model_info":
                // Descriptive metadata in LiteLLM, except what the deployment really is and its id.
                let info = try value.mapping()
                baseModel = info.first { $0.key == "base_model" }?.value
                accessGroups = info.first { $0.key == "access_groups" }?.value
                id = info.first { $0.key == "id" }?.value
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
        var routing = DeploymentRouting()
        var vertex = VertexParameters()
        var chat = ChatCompletionsParameters()
        for (key, value) in try params.mapping() {
            switch key {
            case "model": model = try self.providerModel(value)
            case "vertex_project", "vertex_ai_project": vertex.project = (try self.secret(value), value)
            case "vertex_location", "vertex_ai_location": vertex.location = (try self.secret(value), value)
            case "vertex_credentials": vertex.credentials = (try self.credentials(value), value)
            case "api_version": chat.values.apiVersion = try self.secret(value); chat.nodes[key] = value
            case "organization": chat.values.organization = try self.secret(value); chat.nodes[key] = value
            case "tokenize_url": chat.values.tokenizeURL = try self.secret(value); chat.nodes[key] = value
            case "extra_headers":
                for (name, header) in try value.mapping() { chat.values.extraHeaders[name] = try self.secret(header) }
                chat.nodes[key] = value
            case "api_key": apiKey = try self.secret(value)
            case "api_base": apiBase = try self.secret(value)
            case "weight": routing.weight = try value.double(in: 0...1_000_000, "a weight")
            case "rpm": routing.rpm = try value.int(in: 1...1_000_000_000)
            case "tpm": routing.tpm = try value.int(in: 1...1_000_000_000_000)
            case "timeout": routing.timeout = try self.positiveDuration(value)
            case "stream_timeout": routing.streamTimeout = try self.positiveDuration(value)
            case "max_retries": routing.maxRetries = try value.int(in: 0...100)
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
        routing.apply(to: &deployment)
        if model.provider == .vertexAI {
            deployment.vertex = try self.vertexSettings(vertex, at: params)
        } else if let node = vertex.nodes.first {
            self.warnings.append("\(node.path): not used by the \(model.provider.rawValue) provider; ignored")
        }
        if let dialect = model.provider.chatCompletionsDialect {
            do {
                deployment.chatCompletions = try ChatCompletionsSettings.resolve(
                    dialect: dialect, apiBase: apiBase, apiKey: apiKey, parameters: chat.values, environment: self.environment
                )
            } catch {
                throw (error.parameter.flatMap { chat.nodes[$0] } ?? params).error(error.message)
            }
        } else {
            for node in chat.nodes.values.sorted(by: { $0.path < $1.path }) {
                self.warnings.append("\(node.path): not used by the \(model.provider.rawValue) provider; ignored")
            }
        }
        if let id { deployment.name = try id.string() }
        if let accessGroups { deployment.accessGroups = try accessGroups.sequence().map { try $0.string() } }
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

    /// A `vertex_ai/` deployment's project, location and credentials (``VertexSettings/resolve``).
    private func vertexSettings(_ parameters: VertexParameters, at params: ConfigNode) throws -> VertexSettings {
        let credentials: GoogleCredentials
        do {
            credentials = try GoogleCredentials.resolve(
                vertexCredentials: parameters.credentials?.value, environment: self.environment
            )
        } catch {
            throw (parameters.credentials?.node ?? params).error("\(error)")
        }
        let settings = VertexSettings.resolve(
            project: parameters.project?.value,
            location: parameters.location?.value,
            credentials: credentials,
            environment: self.environment
        )
        if let problem = VertexSettings.problem(withLocation: settings.location) {
            throw (parameters.location?.node ?? params).error("\(problem); got \"\(settings.location)\"")
        }
        let onMetadataServer = if case .metadataServer = credentials.source { true } else { false }
        if settings.project == nil, !onMetadataServer {
            throw params.error(
                "expected vertex_project (or GOOGLE_CLOUD_PROJECT in the environment): the \(credentials.typeName) "
                    + "credentials from \(credentials.source.description) name no project"
            )
        }
        return settings
    }

    /// `vertex_credentials`: a path or a JSON string, as in LiteLLM, or the key file's JSON written as YAML.
    private func credentials(_ node: ConfigNode) throws -> String {
        if (try? node.mapping()) != nil {
            var writer = JSONWriter()
            writer.value(try self.resolved(node.json(), at: node))
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        return try self.secret(node)
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

    /// `sqlite:///absolute/path`, `sqlite://relative/path` or `postgresql://user:password@host:port/database`.
    private func database(_ node: ConfigNode) throws -> StoreLocation {
        try self.database(url: try self.secret(node)) { node.error($0) }
    }

    private func database(url: String, failure: (String) -> any Error) throws -> StoreLocation {
        do {
            return try StoreLocation(url: url)
        } catch {
            throw failure(error.description)
        }
    }

    private func budgetDuration(_ node: ConfigNode) throws -> BudgetDuration {
        let text = try node.string()
        guard let duration = BudgetDuration(text) else {
            throw node.error("expected a duration such as 30s, 15m, 1h, 7d, 30d or 1mo; got \"\(text)\"")
        }
        return duration
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

    private mutating func serverSettings(
        _ node: ConfigNode, router: inout SwitchboardRouting, governance: inout GovernanceSettings
    ) throws -> ServerSettings {
        var settings = ServerSettings()
        for (key, value) in try node.mapping() {
            switch key {
            case "instance_id": settings.instanceID = try self.secret(value)
            case "state_dir": governance.stateDirectory = try self.secret(value)
            case "spend_log_retention_days": governance.spendLogRetentionDays = try value.int(in: 1...36_500)
            case "teams": governance.teams = try value.sequence().map { try DeclaredRecords.team($0) }
            case "virtual_keys": governance.keys = try value.sequence().map { try DeclaredRecords.key($0, resolve: self.secret) }
            case "routing":
                for (option, node) in try value.mapping() {
                    switch option {
                    case "session_affinity": router.sessionAffinity = try node.bool()
                    case "max_backoff_seconds": router.maximumBackoff = try self.duration(node)
                    default: self.ignore(node)
                    }
                }
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

    /// Seconds above 0.
    private func positiveDuration(_ node: ConfigNode) throws -> Duration {
        let duration = try self.duration(node)
        guard duration > .zero else { throw node.error("expected a number of seconds above 0") }
        return duration
    }

    /// One `router_settings` key (or its `litellm_settings` twin).
    private mutating func routerSetting(_ key: String, _ node: ConfigNode, into router: inout RouterSettings) throws {
        switch key {
        case "routing_strategy":
            let name = try node.string()
            guard let strategy = RouterSettings.Strategy(rawValue: name) else {
                let known = RouterSettings.Strategy.allCases.map(\.rawValue).joined(separator: ", ")
                throw node.error("expected one of \(known); got \"\(name)\"")
            }
            router.strategy = strategy
        case "num_retries": router.numRetries = try node.int(in: 0...100)
        case "allowed_fails": router.allowedFails = try node.int(in: 0...1_000_000)
        case "cooldown_time": router.cooldownTime = try self.duration(node)
        case "timeout": router.timeout = try self.positiveDuration(node)
        case "stream_timeout": router.streamTimeout = try self.positiveDuration(node)
        case "retry_after": router.minimumRetryWait = try self.duration(node)
        case "max_fallbacks": router.maxFallbacks = try node.int(in: 0...100)
        case "fallbacks": router.fallbacks = try self.fallbacks(node)
        case "context_window_fallbacks": router.contextWindowFallbacks = try self.fallbacks(node)
        case "content_policy_fallbacks": router.contentPolicyFallbacks = try self.fallbacks(node)
        case "default_fallbacks": router.defaultFallbacks = try node.sequence().map { try $0.string() }
        case "retry_policy": router.retryPolicy = try self.policy(node, suffix: "Retries")
        case "allowed_fails_policy": router.allowedFailsPolicy = try self.policy(node, suffix: "AllowedFails")
        default: self.ignore(node)
        }
    }

    /// `[{group: [fallback, …]}, …]`, LiteLLM's shape (a plain mapping is taken too).
    private func fallbacks(_ node: ConfigNode) throws -> [String: [String]] {
        let entries = node.node.mapping != nil ? [node] : try node.sequence()
        var fallbacks: [String: [String]] = [:]
        for entry in entries {
            for (group, targets) in try entry.mapping() {
                let names = try targets.sequence().map { try $0.string() }
                guard !names.contains(group) else { throw targets.error("a group cannot fall back to itself") }
                fallbacks[group, default: []] += names
            }
        }
        return fallbacks
    }

    /// `retry_policy` / `allowed_fails_policy`: `{RateLimitErrorRetries: 3, …}`.
    private func policy(_ node: ConfigNode, suffix: String) throws -> [FailureClass: Int] {
        var policy: [FailureClass: Int] = [:]
        for (key, value) in try node.mapping() {
            guard let kind = FailureClass.fromPolicyKey(key, suffix: suffix) else {
                throw value.error(
                    "expected one of RateLimitError\(suffix), InternalServerError\(suffix), TimeoutError\(suffix), "
                        + "AuthenticationError\(suffix), ContentPolicyViolationError\(suffix), BadRequestError\(suffix)"
                )
            }
            policy[kind] = try value.int(in: 0...1_000_000)
        }
        return policy
    }

    /// Gives each deployment without a `model_info.id` its name in its group: `<model_name>#<n>`.
    private static func named(_ deployments: [ModelDeployment]) -> [ModelDeployment] {
        var counts: [String: Int] = [:]
        return deployments.map { original -> ModelDeployment in
            var deployment = original
            counts[deployment.modelName, default: 0] += 1
            if deployment.name == deployment.modelName { deployment.name = "\(deployment.modelName)#\(counts[deployment.modelName]!)" }
            return deployment
        }
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
        let table = RouteTable(configuration: GatewayConfiguration(deployments: configuration.deployments))
        for (alias, target) in configuration.aliases.sorted(by: { $0.key < $1.key }) where table.resolve(target) == nil {
            throw ConfigurationError(
                path: "router_settings.model_group_alias.\(alias)",
                message: "expected the model_name of a model_list entry; \"\(target)\" matches none"
            )
        }
        let router = configuration.router
        let lists: [(String, [String: [String]])] = [
            ("fallbacks", router.fallbacks), ("context_window_fallbacks", router.contextWindowFallbacks),
            ("content_policy_fallbacks", router.contentPolicyFallbacks), ("default_fallbacks", ["*": router.defaultFallbacks]),
        ]
        for (key, fallbacks) in lists {
            for (group, targets) in fallbacks.sorted(by: { $0.key < $1.key }) {
                for target in targets where table.match(target) == nil {
                    throw ConfigurationError(
                        path: "router_settings.\(key)",
                        message: "\(group) falls back to \"\(target)\", which is no model_name of model_list"
                    )
                }
                if key != "default_fallbacks", table.match(group) == nil {
                    self.warnings.append("router_settings.\(key): \"\(group)\" is no model_name of model_list; never used")
                }
            }
        }
    }
}

/// The routing keys of one deployment's `litellm_params`.
private struct DeploymentRouting {
    var weight: Double?
    var rpm: Int?
    var tpm: Int?
    var timeout: Duration?
    var streamTimeout: Duration?
    var maxRetries: Int?

    func apply(to deployment: inout ModelDeployment) {
        deployment.weight = self.weight
        deployment.rpm = self.rpm
        deployment.tpm = self.tpm
        deployment.timeout = self.timeout
        deployment.streamTimeout = self.streamTimeout
        deployment.maxRetries = self.maxRetries
    }
}

/// `switchboard.routing`: Switchboard's own routing options.
private struct SwitchboardRouting {
    var sessionAffinity: Bool?
    var maximumBackoff: Duration?

    func apply(to router: inout RouterSettings) {
        if let sessionAffinity { router.sessionAffinity = sessionAffinity }
        if let maximumBackoff { router.maximumBackoff = maximumBackoff }
    }
}

/// The `vertex_*` keys of one `litellm_params`, with where each was written.
private struct VertexParameters {
    var project: (value: String, node: ConfigNode)?
    var location: (value: String, node: ConfigNode)?
    var credentials: (value: String, node: ConfigNode)?

    var nodes: [ConfigNode] { [self.project?.node, self.location?.node, self.credentials?.node].compactMap { $0 } }
}

/// The `litellm_params` keys an OpenAI-compatible deployment reads, with where each was written.
private struct ChatCompletionsParameters {
    var values = ChatCompletionsSettings.Parameters()
    var nodes: [String: ConfigNode] = [:]
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
        case .vertexAI: []
        default: []  // an OpenAI-compatible deployment's are read into ChatCompletionsSettings
        }
    }
}
