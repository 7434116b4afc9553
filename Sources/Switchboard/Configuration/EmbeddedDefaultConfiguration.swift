/// The configuration `switchboard serve` runs on when no `--config` is given.
///
/// Every model Claude Code asks for — `claude-opus-*`, `claude-sonnet-*`, `claude-haiku-*`, and any
/// other name (`--model` aliases, gateway model names) — answers from the mock provider, so a fresh
/// machine can try the whole path without any key. ``notice(environment:)`` says so in the log.
public enum EmbeddedDefaultConfiguration {
    public static let yaml = """
        # Switchboard's embedded default: every model answers from the in-process mock.
        model_list:
          - model_name: "claude-opus-*"
            litellm_params:
              model: mock/claude-opus-echo
          - model_name: "claude-sonnet-*"
            litellm_params:
              model: mock/claude-sonnet-echo
          - model_name: "claude-haiku-*"
            litellm_params:
              model: mock/claude-haiku-echo
          - model_name: "*"
            litellm_params:
              model: mock/echo
        """

    /// The log line that says where answers come from, so nobody mistakes mock answers for a model's.
    public static func notice(environment: [String: String]) -> String {
        var notice = "no --config given: using the embedded default, where every model answers from the mock provider (it echoes your last message)"
        if let key = environment["GEMINI_API_KEY"], !key.isEmpty {
            notice += "; GEMINI_API_KEY is set, but this build has no Gemini provider yet, so it is not used"
        }
        return notice
    }
}
