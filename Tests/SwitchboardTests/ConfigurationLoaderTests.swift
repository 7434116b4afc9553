import Switchboard
import Testing

@Suite("Loading LiteLLM-style YAML")
struct ConfigurationLoaderTests {
    let loader = ConfigurationLoader(environment: ["ANTHROPIC_KEY": "sk-ant-test", "MASTER": "sk-master"])

    @Test("a LiteLLM config loads: model_list, os.environ references, settings, aliases")
    func litellmConfig() throws {
        let result = try self.loader.load(yaml: """
            model_list:
              - model_name: claude-sonnet-4-5
                litellm_params:
                  model: anthropic/claude-sonnet-4-5-20250929
                  api_key: os.environ/ANTHROPIC_KEY
                  api_base: http://127.0.0.1:9/
              - model_name: "claude-*"
                litellm_params:
                  model: mock/echo
                  mock_delay_ms: 5
            litellm_settings:
              drop_params: true
              set_verbose: true
            general_settings:
              master_key: os.environ/MASTER
            router_settings:
              model_group_alias: {"opus": "claude-sonnet-4-5"}
            """)
        let configuration = result.configuration
        #expect(configuration.deployments.count == 2)
        #expect(configuration.deployments[0].provider == .anthropic)
        #expect(configuration.deployments[0].upstreamModel == "claude-sonnet-4-5-20250929")
        #expect(configuration.deployments[0].apiKey == "sk-ant-test")
        #expect(configuration.deployments[1].parameters["mock_delay_ms"] == .number(5))
        #expect(configuration.masterKey == "sk-master")
        #expect(configuration.dropParams)
        #expect(configuration.aliases == ["opus": "claude-sonnet-4-5"])
        #expect(result.warnings == ["litellm_settings.set_verbose: not used by Switchboard; ignored"])
    }

    @Test("an unset os.environ variable is an error naming it and the path")
    func missingEnvironmentVariable() {
        let error = #expect(throws: ConfigurationError.self) {
            try self.loader.load(yaml: """
                model_list:
                  - model_name: a
                    litellm_params:
                      model: anthropic/claude
                      api_key: os.environ/NOT_SET_ANYWHERE
                """)
        }
        #expect(error?.path == "model_list[0].litellm_params.api_key")
        #expect(error?.message.contains("NOT_SET_ANYWHERE is not set") == true)
        #expect(error?.line == 5)
    }

    @Test(
        "mistakes name the YAML path and what was expected",
        arguments: [
            ("model_list: 3", "model_list", "expected a list"),
            ("general_settings: {}", "model_list", "non-empty list"),
            ("model_list:\n  - litellm_params: {model: mock/x}", "model_list[0]", "expected model_name"),
            ("model_list:\n  - model_name: a", "model_list[0]", "expected litellm_params"),
            ("model_list:\n  - model_name: a\n    litellm_params: {api_key: k}", "model_list[0].litellm_params", "expected model:"),
            ("model_list:\n  - model_name: a\n    litellm_params: {model: claude}", "model_list[0].litellm_params.model", "<provider>/<model>"),
            ("model_list:\n  - model_name: a\n    litellm_params: {model: nosuch/x}", "model_list[0].litellm_params.model", "not supported"),
            ("model_list:\n  - model_name: a\n    litellm_params: {model: mock/x}\nswitchboard: {port: 70000}", "switchboard.port", "0 to 65535"),
            ("model_list:\n  - model_name: a\n    litellm_params: {model: mock/x}\nlitellm_settings: {drop_params: maybe}", "litellm_settings.drop_params", "true or false"),
            ("model_list:\n  - model_name: a\n    litellm_params: {model: mock/x}\nrouter_settings: {model_group_alias: {b: zzz}}", "router_settings.model_group_alias.b", "matches none"),
            ("model_list: [", "", "not valid YAML"),
        ]
    )
    func mistakes(yaml: String, path: String, expected: String) {
        let error = #expect(throws: ConfigurationError.self) { try self.loader.load(yaml: yaml) }
        #expect(error?.path == path)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    @Test("unknown keys are warnings, not errors; parameters a provider does not read too")
    func unknownKeysWarn() throws {
        let result = try self.loader.load(yaml: """
            model_list:
              - model_name: a
                litellm_params: {model: mock/x, rpm: 10, mock_response: hi}
                extra: 1
            surprise: yes
            """)
        #expect(result.warnings.contains("model_list[0].litellm_params.rpm: not used by the mock provider; ignored"))
        #expect(result.warnings.contains("model_list[0].extra: not used by Switchboard; ignored"))
        #expect(result.warnings.contains("surprise: not used by Switchboard; ignored"))
        #expect(result.configuration.deployments[0].parameters == ["mock_response": .string("hi")])
    }

    @Test("switchboard: settings set the server")
    func serverSettings() throws {
        let configuration = try self.loader.load(yaml: """
            model_list: [{model_name: a, litellm_params: {model: mock/x}}]
            switchboard: {host: 0.0.0.0, port: 8080, max_request_body_mb: 1, graceful_shutdown_seconds: 2.5}
            """).configuration
        #expect(configuration.server.host == "0.0.0.0")
        #expect(configuration.server.port == 8080)
        #expect(configuration.server.requestBodyLimit == 1_048_576)
        #expect(configuration.server.gracefulShutdown == .milliseconds(2500))
    }

    @Test("without GEMINI_API_KEY the embedded default routes every Claude Code model name to the mock")
    func embeddedDefault() throws {
        let configuration = try self.loader.load(yaml: EmbeddedDefaultConfiguration.yaml(environment: [:])).configuration
        let routes = RouteTable(configuration: configuration)
        for name in ["claude-opus-4-1", "claude-sonnet-4-5-20250929", "claude-haiku-4-5", "claude-fable-5", "gemini-2.5-flash"] {
            #expect(routes.resolve(name)?.provider == .mock, "\(name)")
        }
        #expect(routes.resolve("claude-haiku-4-5")?.upstreamModel == "claude-haiku-echo")
    }

    @Test("with GEMINI_API_KEY the embedded default routes Claude Code's tiers and Gemini names to Gemini")
    func embeddedDefaultWithKey() throws {
        let environment = ["GEMINI_API_KEY": "key-from-env"]
        let loaded = try ConfigurationLoader(environment: environment).load(yaml: EmbeddedDefaultConfiguration.yaml(environment: environment))
        let routes = RouteTable(configuration: loaded.configuration)
        #expect(routes.resolve("claude-opus-4-1")?.upstreamModel == "gemini-3.1-pro-preview")
        #expect(routes.resolve("claude-sonnet-4-5-20250929")?.upstreamModel == "gemini-2.5-pro")
        #expect(routes.resolve("claude-haiku-4-5")?.upstreamModel == "gemini-2.5-flash")
        #expect(routes.resolve("gemini-3-flash-preview")?.upstreamModel == "gemini-3-flash-preview")
        #expect(routes.resolve("anything")?.provider == .gemini)
        #expect(loaded.configuration.deployments.allSatisfy { $0.apiKey == "key-from-env" })
        #expect(loaded.warnings.isEmpty)
    }

    @Test("the embedded default's log line says where answers come from")
    func embeddedDefaultNotice() {
        #expect(EmbeddedDefaultConfiguration.notice(environment: [:]).contains("mock provider"))
        #expect(EmbeddedDefaultConfiguration.notice(environment: ["GEMINI_API_KEY": "k"]).contains("to Gemini"))
    }
}
