import ArgumentParser
import SwitchboardTesting

/// A fake OpenAI-compatible Chat Completions server, with Azure OpenAI's deployment routes and vLLM's /tokenize.
struct OpenAICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openai",
        abstract: "A fake OpenAI Chat Completions API (/v1/chat/completions), Azure OpenAI and vLLM's /tokenize.",
        discussion: """
            OpenAI clients use http://127.0.0.1:PORT/v1 as their base URL (Authorization: Bearer KEY); Azure clients \
            use http://127.0.0.1:PORT as their endpoint (api-key: KEY, /openai/deployments/NAME/chat/completions\
            ?api-version=…). A fake:NAME directive in the prompt scripts the answer; /_fake/requests lists what came in.
            """
    )

    @Option(help: "Port on 127.0.0.1 (0 picks one; the chosen port is printed).")
    var port: Int = 0

    @Option(help: "The only key the fake accepts, as a bearer token or Azure's api-key.")
    var apiKey: String = "sk-fake-openai"

    func run() async throws {
        let fake = try await FakeChatCompletionsServer.start(port: self.port, apiKey: self.apiKey)
        try await serve(baseURL: fake.baseURL)
    }
}
