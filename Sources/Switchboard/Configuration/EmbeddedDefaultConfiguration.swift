/// The configuration `switchboard serve` runs on when no `--config` is given.
///
/// Every model Claude Code asks for — `claude-opus-*`, `claude-sonnet-*`, `claude-haiku-*`, and any
/// other name (`--model` aliases, gateway model names) — goes to Gemini when `GEMINI_API_KEY` is set,
/// and to the mock provider otherwise, so a fresh machine can try the whole path without a key.
/// ``notice(environment:)`` says which in the log, so nobody mistakes mock answers for a model's.
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

    /// The YAML for this environment.
    public static func yaml(environment: [String: String]) -> String {
        Self.hasGeminiKey(environment) ? Self.gemini : Self.mock
    }

    /// The log line that says where answers come from.
    public static func notice(environment: [String: String]) -> String {
        if Self.hasGeminiKey(environment) {
            return "no --config given: using the embedded default, which routes Claude Code's models to Gemini with GEMINI_API_KEY (opus → gemini-3.1-pro-preview, sonnet → gemini-2.5-pro, haiku and others → gemini-2.5-flash)"
        }
        return "no --config given: using the embedded default; GEMINI_API_KEY is not set, so every model answers from the mock provider (it echoes your last message)"
    }

    private static func hasGeminiKey(_ environment: [String: String]) -> Bool {
        !(environment["GEMINI_API_KEY"] ?? "").isEmpty
    }
}
