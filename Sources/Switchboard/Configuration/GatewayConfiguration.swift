import Foundation
import OrderedCollections

/// Everything Switchboard runs on, validated.
///
/// Loaded from LiteLLM's YAML schema by ``ConfigurationLoader``; Switchboard's own settings live under
/// the `switchboard:` key, so a LiteLLM config starts Switchboard unchanged.
public struct GatewayConfiguration: Sendable {
    /// The `model_list` entries, in file order.
    public var deployments: [ModelDeployment]
    /// `router_settings.model_group_alias`: a name clients send → the `model_name` it stands for.
    public var aliases: [String: String]
    /// `general_settings.master_key` (else `LITELLM_MASTER_KEY`): when set, every route but the health checks needs it.
    public var masterKey: String?
    /// `general_settings.database_url` (else `DATABASE_URL`, as LiteLLM reads it): where virtual keys, teams
    /// and spend live, `sqlite:///path` or `postgresql://…`. Unset with a master key: `switchboard.db` in
    /// `switchboard.state_dir` (else the working directory); nil for a gateway without a master key, which
    /// has nothing to administer keys with.
    public var database: StoreLocation?
    /// The SQLite file ``database`` names, if it names one.
    public var databasePath: String? {
        if case .sqlite(let path)? = self.database { path } else { nil }
    }
    public var governance = GovernanceSettings()
    /// `litellm_settings.drop_params`: drop request parameters a provider cannot take instead of failing.
    public var dropParams: Bool
    /// `router_settings`: retries, fallbacks, cooldowns, the routing strategy.
    public var router = RouterSettings()
    public var server: ServerSettings

    public init(
        deployments: [ModelDeployment],
        aliases: [String: String] = [:],
        masterKey: String? = nil,
        dropParams: Bool = false,
        server: ServerSettings = ServerSettings()
    ) {
        self.deployments = deployments
        self.aliases = aliases
        self.masterKey = masterKey
        self.dropParams = dropParams
        self.server = server
    }
}

/// One `model_list` entry: a name clients use, and where requests for it go.
public struct ModelDeployment: Sendable {
    /// `model_name`: what clients put in `model`; may hold `*` wildcards.
    public var modelName: String { didSet { self.refreshRoutingKey() } }
    public var provider: ProviderKind { didSet { self.refreshRoutingKey() } }
    /// The provider's model id (after `provider/`); may hold `*`, filled from the wildcard's match.
    public var upstreamModel: String { didSet { self.refreshRoutingKey() } }
    public var apiKey: String?
    public var apiBase: String? { didSet { self.refreshRoutingKey() } }
    /// The remaining `litellm_params`, for the provider to read.
    public var parameters: JSONObject
    /// Where in the YAML this came from, for messages.
    public var origin: String
    /// `model_info.base_model`: the model this deployment really is, when its id does not say (an alias
    /// such as `gemini-flash-latest`, a tuned model). A Gemini deployment follows that model's rules.
    public var baseModel: String?
    /// `model_info.access_groups`: names a key's or team's `models` may list to grant this deployment's group.
    public var accessGroups: [String] = []
    /// Its name on metrics, spans and logs: `model_info.id`, else `<model_name>#<n>`, n counting the
    /// group's deployments from 1 in file order.
    public var name: String { didSet { self.refreshRoutingKey() } }
    /// `litellm_params.weight`: its share of a `simple-shuffle` group's requests.
    public var weight: Double?
    /// `litellm_params.rpm` / `tpm`: requests and tokens per minute it can take; at either limit it is
    /// skipped while another deployment has room.
    public var rpm: Int?
    public var tpm: Int?
    /// `litellm_params.timeout`: the most a request on this deployment may take, every attempt included.
    public var timeout: Duration?
    /// `litellm_params.stream_timeout`: the most an attempt may wait for its first content.
    public var streamTimeout: Duration?
    /// `litellm_params.max_retries`: the most retries on this same deployment within one request.
    public var maxRetries: Int?
    /// A `vertex_ai/` deployment's project, location and credentials; nil for other providers.
    public var vertex: VertexSettings?
    /// An OpenAI-compatible deployment's endpoint, key and extras; nil for other providers.
    public var chatCompletions: ChatCompletionsSettings?

    public init(
        modelName: String,
        provider: ProviderKind,
        upstreamModel: String,
        apiKey: String? = nil,
        apiBase: String? = nil,
        parameters: JSONObject = [:],
        origin: String = ""
    ) {
        self.modelName = modelName
        self.provider = provider
        self.upstreamModel = upstreamModel
        self.apiKey = apiKey
        self.apiBase = apiBase
        self.parameters = parameters
        self.origin = origin
        self.name = modelName
        self.routingKey = ""
        self.refreshRoutingKey()
    }

    /// What the router keeps health and load under: the same deployment across a configuration reload.
    /// Stored, not computed: the router looks it up several times per request.
    private(set) var routingKey: String

    private mutating func refreshRoutingKey() {
        self.routingKey = "\(self.modelName)\u{1F}\(self.name)\u{1F}\(self.provider.rawValue)/\(self.upstreamModel)\u{1F}\(self.apiBase ?? "")"
    }
}

/// The providers this build can route to, by their LiteLLM prefix.
public enum ProviderKind: String, Sendable, CaseIterable {
    /// Anthropic's Messages API, passed through byte for byte.
    case anthropic
    /// Answers in-process, for trying things out and for benchmarks.
    case mock
    /// Google AI Studio's Gemini API, translated to and from Anthropic Messages.
    case gemini
    /// Google Cloud's Vertex AI: Gemini models translated as for `gemini`, Claude models passed through.
    case vertexAI = "vertex_ai"
    // The OpenAI Chat Completions API and the services that speak it, each with LiteLLM's defaults
    // (``ChatCompletionsDialect``): translated to and from Anthropic Messages by one provider.
    case openai
    case azure
    case deepseek
    case mistral
    case groq
    case openrouter
    case xai
    case togetherAI = "together_ai"
    case fireworksAI = "fireworks_ai"
    case cerebras
    case hostedVLLM = "hosted_vllm"
    case ollamaChat = "ollama_chat"
    case ollama
    case lmStudio = "lm_studio"
}

/// Switchboard's own settings, under `switchboard:` in the YAML.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// Larger request bodies get 413 `request_too_large`.
    public var requestBodyLimit: Int
    /// How long in-flight requests may run after SIGTERM or SIGINT before they are cut.
    public var gracefulShutdown: Duration
    public var upstreamConnectTimeout: Duration
    /// The longest silence from an upstream while a client waits.
    public var upstreamIdleTimeout: Duration
    /// How often a streaming client gets an SSE `ping` while a translated upstream is silent.
    public var pingInterval: Duration
    /// Whether `/metrics` needs the master key.
    public var metricsRequireAuth: Bool
    /// The price table file; when nil, `config/prices.yaml` is looked for (see docs/metrics.md).
    public var priceTablePath: String?
    /// Where spans go (an OTLP/HTTP traces URL); overrides `OTEL_EXPORTER_OTLP_*` when set.
    public var tracesEndpoint: String?
    /// Put message content on spans (`gen_ai.input.messages` / `gen_ai.output.messages`).
    public var captureMessageContent = false
    /// Which requests are traced and logged: the sampler (`OTEL_TRACES_SAMPLER`) and the excluded routes.
    public var tracePolicy = TracePolicy()
    /// Serve on a non-loopback address without a master key (`--allow-unauthenticated`).
    public var allowUnauthenticated = false
    /// `switchboard.instance_id`: this replica's name on spans (`service.instance.id`) and `/metrics`
    /// (`switchboard_instance_info`); nil for the machine's host name and the port.
    public var instanceID: String?

    /// ``instanceID``, else `host:port` with the machine's name, so replicas on several machines differ.
    public var resolvedInstanceID: String {
        self.instanceID ?? "\(ProcessInfo.processInfo.hostName):\(self.port)"
    }

    public init(
        host: String = "127.0.0.1",
        port: Int = 4000,
        requestBodyLimit: Int = 32 << 20,
        gracefulShutdown: Duration = .seconds(30),
        upstreamConnectTimeout: Duration = .seconds(10),
        upstreamIdleTimeout: Duration = .seconds(600),
        pingInterval: Duration = .seconds(5),
        metricsRequireAuth: Bool = false,
        priceTablePath: String? = nil
    ) {
        self.host = host
        self.port = port
        self.requestBodyLimit = requestBodyLimit
        self.gracefulShutdown = gracefulShutdown
        self.upstreamConnectTimeout = upstreamConnectTimeout
        self.upstreamIdleTimeout = upstreamIdleTimeout
        self.pingInterval = pingInterval
        self.metricsRequireAuth = metricsRequireAuth
        self.priceTablePath = priceTablePath
    }
}
