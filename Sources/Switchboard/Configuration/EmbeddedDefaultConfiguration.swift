/// The configuration `switchboard serve` runs on when no `--config` is given.
///
/// Every model Claude Code asks for — `claude-opus-*`, `claude-sonnet-*`, `claude-haiku-*`, and any
/// other name (`--model` aliases, gateway model names) — goes to Gemini on AI Studio when `GEMINI_API_KEY`
/// is set; else to Gemini on Vertex AI when Application Default Credentials and a project are found (the
/// seed's Option B: `gcloud auth application-default login` and `GOOGLE_CLOUD_PROJECT`); else to the mock
/// provider, so a fresh machine can try the whole path without a key. ``notice(environment:)`` says
/// which in the log, so nobody mistakes mock answers for a model's.
public enum EmbeddedDefaultConfiguration {
    /// Claude Code's tiers on Gemini: the strongest model for Opus, a strong one for Sonnet, a fast
    /// one for Haiku (Claude Code's background model); Gemini names pass through as they are.
    static let gemini = """
        # Switchboard's embedded default with GEMINI_API_KEY set.
        model_list:
          - model_name: "claude-opus-*"
            litellm_params: {model: gemini/gemini-3.1-pro-preview, api_key: os.environ/GEMINI_API_KEY}
          - model_name: "claude-sonnet-*"
            litellm_params: {model: gemini/gemini-2.5-pro, api_key: os.environ/GEMINI_API_KEY}
          - model_name: "claude-haiku-*"
            litellm_params: {model: gemini/gemini-2.5-flash, api_key: os.environ/GEMINI_API_KEY}
          - model_name: "gemini-*"
            litellm_params: {model: "gemini/gemini-*", api_key: os.environ/GEMINI_API_KEY}
          - model_name: "*"
            litellm_params: {model: gemini/gemini-2.5-flash, api_key: os.environ/GEMINI_API_KEY}
        litellm_settings:
          drop_params: true
        """

    /// The same tiers on Vertex AI; project, location and credentials are found as for any `vertex_ai/` entry.
    static let vertex = """
        # Switchboard's embedded default with Application Default Credentials and a Google Cloud project.
        model_list:
          - model_name: "claude-opus-*"
            litellm_params: {model: vertex_ai/gemini-3.1-pro-preview}
          - model_name: "claude-sonnet-*"
            litellm_params: {model: vertex_ai/gemini-2.5-pro}
          - model_name: "claude-haiku-*"
            litellm_params: {model: vertex_ai/gemini-2.5-flash}
          - model_name: "gemini-*"
            litellm_params: {model: "vertex_ai/gemini-*"}
          - model_name: "*"
            litellm_params: {model: vertex_ai/gemini-2.5-flash}
        litellm_settings:
          drop_params: true
        """

    static let mock = """
        # Switchboard's embedded default without GEMINI_API_KEY: every model answers from the mock.
        model_list:
          - model_name: "claude-opus-*"
            litellm_params: {model: mock/claude-opus-echo}
          - model_name: "claude-sonnet-*"
            litellm_params: {model: mock/claude-sonnet-echo}
          - model_name: "claude-haiku-*"
            litellm_params: {model: mock/claude-haiku-echo}
          - model_name: "*"
            litellm_params: {model: mock/echo}
        """

    /// Where the embedded default sends requests in an environment.
    enum Choice {
        case gemini
        /// Vertex AI; `found` says which project, location and credentials a `vertex_ai/` entry resolves to here.
        case vertex(found: String)
        case mock
    }

    /// AI Studio when `GEMINI_API_KEY` is set. Else Vertex AI when a credentials file is found
    /// (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud's ADC file) and some source names a project, or when only
    /// the metadata server can supply credentials and the environment says this is Google Cloud
    /// (`GOOGLE_CLOUD_PROJECT` or `GCE_METADATA_HOST` set). Else the mock. A credentials file that cannot be
    /// read still chooses Vertex, so that loading reports what is wrong with it.
    static func choose(environment: [String: String]) -> Choice {
        if Self.hasGeminiKey(environment) { return .gemini }
        let credentials: GoogleCredentials
        do {
            credentials = try GoogleCredentials.resolve(vertexCredentials: nil, environment: environment)
        } catch {
            return .vertex(found: "credentials that cannot be used: \(error)")
        }
        let settings = VertexSettings.resolve(project: nil, location: nil, credentials: credentials, environment: environment)
        if case .metadataServer = credentials.source {
            let onGoogleCloud = ["VERTEXAI_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCE_METADATA_HOST"]
                .contains { !(environment[$0] ?? "").isEmpty }
            return onGoogleCloud ? .vertex(found: settings.summary) : .mock
        }
        return settings.project == nil ? .mock : .vertex(found: settings.summary)
    }

    /// The YAML for this environment.
    public static func yaml(environment: [String: String]) -> String {
        switch Self.choose(environment: environment) {
        case .gemini: Self.gemini
        case .vertex: Self.vertex
        case .mock: Self.mock
        }
    }

    /// The log line that says where answers come from.
    public static func notice(environment: [String: String]) -> String {
        let tiers = "(opus → gemini-3.1-pro-preview, sonnet → gemini-2.5-pro, haiku and others → gemini-2.5-flash)"
        switch Self.choose(environment: environment) {
        case .gemini:
            return "no --config given: using the embedded default, which routes Claude Code's models to Gemini with GEMINI_API_KEY \(tiers)"
        case .vertex(let found):
            return "no --config given: using the embedded default, which routes Claude Code's models to Gemini on Vertex AI "
                + "\(tiers); found \(found)"
        case .mock:
            return "no --config given: using the embedded default; GEMINI_API_KEY is not set and no Application Default "
                + "Credentials with a Google Cloud project were found, so every model answers from the mock provider "
                + "(it echoes your last message)"
        }
    }

    private static func hasGeminiKey(_ environment: [String: String]) -> Bool {
        !(environment["GEMINI_API_KEY"] ?? "").isEmpty
    }
}
