import Foundation
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

    static let oneModel = "model_list:\n  - model_name: a\n    litellm_params: {model: mock/x}\n"

    @Test(
        "huge, infinite or overflowing numbers are errors naming the YAML path, never a trap",
        arguments: [
            // Before the fix these trapped (Int/Int64 from a Double, or Yams' sexagesimal Int): the process died.
            ("max_request_body_mb", "1e30", "a number of MiB from 0 to 1048576"),
            ("graceful_shutdown_seconds", "1e30", "a number of seconds from 0 to"),
            ("upstream_idle_timeout_seconds", ".inf", "from 0 to 31536000"),
            ("upstream_connect_timeout_seconds", "inf", "seconds"),
            ("ping_interval_seconds", "1e300", "seconds"),
            ("port", "9223372036854775807:59", "a whole number from 0 to 65535"),
            ("port", "1e30", "a whole number from 0 to 65535; got 1e30"),
            ("port", "99999999999999999999999", "from 0 to 65535"),
            ("port", "80.5", "a whole number"),
            ("graceful_shutdown_seconds", ".nan", "seconds"),
        ]
    )
    func hugeNumbers(key: String, value: String, expected: String) {
        let yaml = Self.oneModel + "switchboard:\n  \(key): \(value)\n"
        let error = #expect(throws: ConfigurationError.self) { try self.loader.load(yaml: yaml) }
        #expect(error?.path == "switchboard.\(key)")
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    @Test(
        "a mock's delay and chunk size are checked at load (the provider traps on a huge or infinite one)",
        arguments: [
            "mock_delay_ms: 1e30", "mock_delay_ms: .inf", "mock_delay_ms: -1",
            "mock_chunk_chars: 99999999999999999999999",
        ]
    )
    func mockNumbers(parameter: String) {
        let yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: mock/x, \(parameter)}\n"
        let error = #expect(throws: ConfigurationError.self) { try self.loader.load(yaml: yaml) }
        #expect(error?.path == "model_list[0].litellm_params.\(parameter.prefix { $0 != ":" })")
    }

    @Test("a bounded parameter a provider ignores is warned about, not checked")
    func ignoredBoundedParameter() throws {
        let yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: gemini/g, api_key: k, mock_delay_ms: -1}\n"
        let loaded = try self.loader.load(yaml: yaml)
        #expect(loaded.warnings == ["model_list[0].litellm_params.mock_delay_ms: not used by the gemini provider; ignored"])
    }

    @Test("numbers a provider receives stay finite: inf and nan stay the words they were")
    func finiteParameters() throws {
        let yaml = "model_list:\n  - model_name: a\n    litellm_params: {model: mock/x, mock_response: nan}\n"
        let deployment = try self.loader.load(yaml: yaml).configuration.deployments[0]
        #expect(deployment.parameters["mock_response"] == .string("nan"))
        let large = try self.loader.load(yaml: Self.oneModel + "switchboard: {max_request_body_mb: 1048576, port: 4e3}")
        #expect(large.configuration.server.requestBodyLimit == 1 << 40)
        #expect(large.configuration.server.port == 4000)
    }

    @Test("excluded_routes: the operational routes by default; YAML and SWITCHBOARD_EXCLUDED_ROUTES change them")
    func excludedRoutes() throws {
        let defaults = try self.loader.load(yaml: Self.oneModel).configuration.server.tracePolicy.excludedRoutes
        #expect(defaults == .operational)
        #expect(defaults.contains(method: "GET", path: "/metrics"))
        #expect(defaults.contains(method: "HEAD", path: "/api/hello"))
        #expect(!defaults.contains(method: "GET", path: "/api/hello"))
        #expect(!defaults.contains(method: "POST", path: "/v1/messages"))

        let yaml = Self.oneModel + "switchboard: {excluded_routes: [/metrics, get /v1/models]}"
        let configured = try self.loader.load(yaml: yaml).configuration.server.tracePolicy.excludedRoutes
        #expect(configured.contains(method: "GET", path: "/v1/models"))
        #expect(!configured.contains(method: "GET", path: "/health"), "the list replaces the default")

        let everything = try ConfigurationLoader(environment: ["SWITCHBOARD_EXCLUDED_ROUTES": "none"]).load(yaml: yaml)
        #expect(everything.configuration.server.tracePolicy.excludedRoutes == .empty)
        let environment = ["SWITCHBOARD_EXCLUDED_ROUTES": "/health, HEAD /api/hello"]
        let fromEnvironment = try ConfigurationLoader(environment: environment)
            .load(yaml: Self.oneModel).configuration.server.tracePolicy.excludedRoutes
        #expect(fromEnvironment.routes.count == 2 && fromEnvironment.contains(method: "GET", path: "/health"))

        let bad = #expect(throws: ConfigurationError.self) {
            try self.loader.load(yaml: Self.oneModel + "switchboard: {excluded_routes: [/metrics, metrics]}")
        }
        #expect(bad?.path == "switchboard.excluded_routes[1]")
        #expect(bad?.message.contains("HEAD /api/hello") == true)
        let badEnvironment = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: ["SWITCHBOARD_EXCLUDED_ROUTES": "health"]).load(yaml: Self.oneModel)
        }
        #expect(badEnvironment?.path == "SWITCHBOARD_EXCLUDED_ROUTES")
    }

    @Test("LITELLM_MASTER_KEY is the master key when general_settings has none, as in LiteLLM")
    func masterKeyFromEnvironment() throws {
        let loader = ConfigurationLoader(environment: ["LITELLM_MASTER_KEY": "sk-env", "MASTER": "sk-master"])
        #expect(try loader.load(yaml: Self.oneModel).configuration.masterKey == "sk-env")
        let yaml = Self.oneModel + "general_settings: {master_key: os.environ/MASTER}"
        #expect(try loader.load(yaml: yaml).configuration.masterKey == "sk-master", "the config's own key wins")
        #expect(try self.loader.load(yaml: Self.oneModel).configuration.masterKey == nil)
        let allowed = try self.loader.load(yaml: Self.oneModel + "switchboard: {allow_unauthenticated: true}")
        #expect(allowed.configuration.server.allowUnauthenticated)
    }

    @Test("unknown keys are warnings, not errors; parameters a provider does not read too")
    func unknownKeysWarn() throws {
        let result = try self.loader.load(yaml: """
            model_list:
              - model_name: a
                litellm_params: {model: mock/x, vertex_project: p, mock_response: hi}
                extra: 1
            surprise: yes
            """)
        #expect(result.warnings.contains("model_list[0].litellm_params.vertex_project: not used by the mock provider; ignored"))
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

    @Test("switchboard.instance_id names the replica; unset, the machine's name and the port")
    func instanceID() throws {
        let named = try ConfigurationLoader(environment: ["REPLICA": "eu-1"]).load(yaml: """
            model_list: [{model_name: a, litellm_params: {model: mock/echo}}]
            switchboard: {instance_id: os.environ/REPLICA, port: 4100}
            """)
        #expect(named.configuration.server.resolvedInstanceID == "eu-1")
        let unnamed = try ConfigurationLoader(environment: [:]).load(yaml: """
            model_list: [{model_name: a, litellm_params: {model: mock/echo}}]
            switchboard: {port: 4100}
            """)
        #expect(unnamed.configuration.server.resolvedInstanceID == "\(ProcessInfo.processInfo.hostName):4100")
    }
}

