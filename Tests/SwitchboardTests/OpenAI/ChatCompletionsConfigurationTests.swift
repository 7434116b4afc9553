import Foundation
import Testing

@testable import Switchboard

@Suite("OpenAI-compatible deployments in a LiteLLM config")
struct ChatCompletionsConfigurationTests {
    func load(_ params: String, environment: [String: String] = [:]) throws -> ModelDeployment {
        let yaml = "model_list:\n  - {model_name: m, litellm_params: {\(params)}}\n"
        return try ConfigurationLoader(environment: environment).load(yaml: yaml).configuration.deployments[0]
    }

    func problem(_ params: String, environment: [String: String] = [:]) -> String {
        do {
            _ = try self.load(params, environment: environment)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test(
        "each LiteLLM prefix: its default base, and its key from its variable",
        arguments: [
            ("openai/gpt-4.1", "OPENAI_API_KEY", "https://api.openai.com/v1/chat/completions"),
            ("deepseek/deepseek-chat", "DEEPSEEK_API_KEY", "https://api.deepseek.com/beta/chat/completions"),
            ("mistral/mistral-large-latest", "MISTRAL_API_KEY", "https://api.mistral.ai/v1/chat/completions"),
            ("fireworks_ai/accounts/fireworks/models/qwen3-coder", "FIREWORKS_AI_TOKEN", "https://api.fireworks.ai/inference/v1/chat/completions"),
            ("groq/llama-3.3-70b-versatile", "GROQ_API_KEY", "https://api.groq.com/openai/v1/chat/completions"),
            ("openrouter/anthropic/claude-3.5-haiku", "OPENROUTER_API_KEY", "https://openrouter.ai/api/v1/chat/completions"),
            ("xai/grok-4", "XAI_API_KEY", "https://api.x.ai/v1/chat/completions"),
            ("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "TOGETHER_AI_API_KEY", "https://api.together.xyz/v1/chat/completions"),
            ("fireworks_ai/accounts/fireworks/models/kimi-k2", "FIREWORKS_API_KEY", "https://api.fireworks.ai/inference/v1/chat/completions"),
            ("cerebras/llama3.1-8b", "CEREBRAS_API_KEY", "https://api.cerebras.ai/v1/chat/completions"),
        ]
    )
    func hostedPrefixes(model: String, keyVariable: String, url: String) throws {
        let deployment = try self.load("model: \(model)", environment: [keyVariable: "sk-env"])
        let settings = try #require(deployment.chatCompletions)
        let dialect = try #require(deployment.provider.chatCompletionsDialect)
        #expect(settings.completionsURL(model: deployment.upstreamModel, dialect: dialect) == url)
        #expect(settings.apiKey == "sk-env")
        #expect(settings.keyOrigin == keyVariable)
        #expect(self.problem("model: \(model)").contains(keyVariable), "a hosted service without a key is a start-up error naming the variable")
        #expect(try self.load("model: \(model), api_key: sk-yaml", environment: [keyVariable: "sk-env"]).chatCompletions?.apiKey == "sk-yaml")
    }

    @Test("local servers: no key needed; Ollama on its OpenAI-compatible path; hosted_vllm needs a base")
    func localServers() throws {
        let ollama = try self.load("model: ollama_chat/qwen3:8b")
        #expect(ollama.chatCompletions?.completionsURL(model: "qwen3:8b", dialect: ollama.provider.chatCompletionsDialect!)
            == "http://localhost:11434/v1/chat/completions")
        #expect(ollama.chatCompletions?.apiKey == nil)
        #expect(try self.load("model: ollama/llama3", environment: ["OLLAMA_API_BASE": "http://gpu:11434/"]).chatCompletions?.base == "http://gpu:11434")
        #expect(self.problem("model: hosted_vllm/qwen3-coder").contains("HOSTED_VLLM_API_BASE"))
        let vllm = try self.load("model: hosted_vllm/qwen3-coder, api_base: http://127.0.0.1:8000/v1, tokenize_url: http://127.0.0.1:8000/tokenize")
        #expect(vllm.chatCompletions?.tokenizeURL == "http://127.0.0.1:8000/tokenize")
        #expect(try self.load("model: lm_studio/qwen").chatCompletions?.base == "http://localhost:1234/v1")
    }

    @Test("azure/: the deployment URL with api-version, the api-key header, and the v1 API")
    func azure() throws {
        let deployment = try self.load(
            #"model: azure/gpt-4o-prod, api_base: "https://team.openai.azure.com/", api_version: "2024-10-21", extra_headers: {X-Team: blue}"#,
            environment: ["AZURE_API_KEY": "az-key"]
        )
        let settings = try #require(deployment.chatCompletions)
        let dialect = ProviderKind.azure.chatCompletionsDialect!
        #expect(settings.completionsURL(model: "gpt-4o-prod", dialect: dialect)
            == "https://team.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21")
        #expect(!settings.bodyNamesModel(dialect: dialect))
        let headers = settings.headers(dialect: dialect)
        #expect(headers["api-key"] == "az-key")
        #expect(headers["authorization"] == nil)
        #expect(headers["x-team"] == "blue")

        let v1 = try #require(try self.load(#"model: azure/gpt-5, api_base: "https://team.openai.azure.com", api_version: v1, api_key: k"#).chatCompletions)
        #expect(v1.completionsURL(model: "gpt-5", dialect: dialect) == "https://team.openai.azure.com/openai/v1/chat/completions")
        #expect(v1.bodyNamesModel(dialect: dialect))
        let defaulted = try self.load(#"model: azure/d, api_base: "https://t.openai.azure.com", api_key: k"#).chatCompletions
        #expect(defaulted?.apiVersion == ChatCompletionsSettings.defaultAzureAPIVersion)
        #expect(self.problem("model: azure/d, api_key: k").contains("AZURE_API_BASE"))
    }

    @Test("organization and extra headers go out; references to the environment resolve inside extra_headers")
    func headers() throws {
        let deployment = try self.load(
            "model: openai/gpt-4.1, api_key: k, organization: org-1, extra_headers: {X-Trace: os.environ/TRACE_TAG}",
            environment: ["TRACE_TAG": "t-9"]
        )
        let headers = try #require(deployment.chatCompletions).headers(dialect: ProviderKind.openai.chatCompletionsDialect!)
        #expect(headers["authorization"] == "Bearer k")
        #expect(headers["openai-organization"] == "org-1")
        #expect(headers["x-trace"] == "t-9")
        let openrouter = try #require(try self.load("model: openrouter/x/y, api_key: k", environment: ["OR_SITE_URL": "https://me.dev"]).chatCompletions)
        #expect(openrouter.headers(dialect: ProviderKind.openrouter.chatCompletionsDialect!)["http-referer"] == "https://me.dev")
    }

    @Test("what one service does not take is refused, naming the key")
    func refusals() {
        #expect(self.problem("model: groq/x, api_key: k, api_version: '2024'").contains("api_version"))
        #expect(self.problem("model: groq/x, api_key: k, organization: o").contains("organization"))
        #expect(self.problem("model: openai/x, api_key: k, extra_headers: {'bad header': v}").contains("extra_headers"))
        #expect(self.problem("model: openai/x, api_key: k, api_base: 'ftp://x'").contains("http or https"))
        #expect(self.problem("model: palm/x").contains("not supported by this build"))
    }

    @Test("switchboard check shows each route's endpoint and where its key came from, never the key")
    func report() throws {
        let yaml = """
            model_list:
              - {model_name: fast, litellm_params: {model: groq/openai/gpt-oss-120b}}
              - {model_name: local, litellm_params: {model: hosted_vllm/qwen, api_base: "http://127.0.0.1:8000/v1"}}
            """
        let configuration = try ConfigurationLoader(environment: ["GROQ_API_KEY": "gsk-secret"]).load(yaml: yaml).configuration
        let text = RouteReport(configuration: configuration).text
        #expect(text.contains("https://api.groq.com/openai/v1/chat/completions"))
        #expect(text.contains("http://127.0.0.1:8000/v1/chat/completions"))
        #expect(text.contains("fast#1: key from GROQ_API_KEY"))
        #expect(text.contains("local#1: no key"))
        #expect(!text.contains("gsk-secret"))
    }

    @Test("model ids: the body takes organisation paths and tags; Azure's path segment takes neither")
    func modelIDs() {
        #expect(UpstreamModelID.problem(with: "meta-llama/Llama-3.3-70B:free", for: .openrouter) == nil)
        #expect(UpstreamModelID.problem(with: "a/b", for: .azure) != nil)
    }
}
