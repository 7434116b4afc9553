import ArgumentParser
import Foundation
import SwitchboardTesting

/// Runs a fake upstream as a process, for end-to-end tests and benchmarks.
@main
struct FakesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-fakes",
        abstract: "Run a fake upstream on 127.0.0.1 until interrupted.",
        subcommands: [AnthropicCommand.self, GeminiCommand.self, VertexCommand.self, GoogleAuthCommand.self, OpenAICommand.self]
    )
}

struct AnthropicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anthropic",
        abstract: "A fake Anthropic Messages API."
    )

    @Option(help: "Port on 127.0.0.1 (0 picks one; the chosen port is printed).")
    var port: Int = 0

    @Option(help: "The only x-api-key the fake accepts.")
    var apiKey: String = "sk-fake-anthropic"

    func run() async throws {
        let fake = try await FakeAnthropicServer.start(port: self.port, apiKey: self.apiKey)
        try await serve(baseURL: fake.baseURL)
    }
}

struct VertexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vertex",
        abstract: "A fake Vertex AI (Gemini and Claude) with Google's token endpoint, metadata server, STS and IAM.",
        discussion: """
            API requests need a bearer token the fake issued: from its OAuth token endpoint (/token) for a \
            registered service account's signed JWT, or from its metadata server \
            (/computeMetadata/v1/…, reached with GCE_METADATA_HOST=127.0.0.1:PORT).
            """
    )

    @Option(help: "Port on 127.0.0.1 (0 picks one; the chosen port is printed).")
    var port: Int = 0

    @Option(help: "The only project the API serves.")
    var project: String

    @Option(help: "When set, API requests must send it in x-goog-user-project.")
    var quotaProject: String?

    @Option(help: "A service_account key file whose signed JWTs the token endpoint accepts (repeatable).")
    var serviceAccount: [String] = []

    @Option(help: "Attach this service account to the metadata server, which then issues its tokens.")
    var metadataAccount: String?

    @Option(help: "Seconds issued tokens last.")
    var tokenLifetime: Int = 3599

    func run() async throws {
        let fake = try await FakeVertexServer.start(port: self.port, project: self.project, quotaProject: self.quotaProject)
        for path in self.serviceAccount {
            do {
                try fake.authority.registerServiceAccount(keyFile: try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw ValidationError("--service-account \(path): \(error)")
            }
        }
        if let account = self.metadataAccount {
            fake.authority.attachMetadataServiceAccount(account, projectID: self.project)
        }
        fake.authority.tokenLifetime = .seconds(self.tokenLifetime)
        try await serve(baseURL: fake.baseURL)
    }
}

struct GeminiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemini",
        abstract: "A fake Gemini API (generateContent, streamGenerateContent, countTokens under /v1beta)."
    )

    @Option(help: "Port on 127.0.0.1 (0 picks one; the chosen port is printed).")
    var port: Int = 0

    @Option(help: "The only x-goog-api-key the fake accepts.")
    var apiKey: String = "fake-gemini-key"

    @Option(
        help: ArgumentHelp(
            "A fault plan for every generation, e.g. 429=0.08,503=0.06,reset_mid_stream=0.03,stall_ms=2000.",
            discussion: """
                Faults: 429, 503, 500, reset_before_head, slow_head, stall, reset_mid_stream, truncated, \
                garbage, garbage_first, each with its probability; parameters: seed, slow_ms, stall_ms, \
                retry_ms. A base URL ending in /faults/SPEC/v1beta puts its requests on the plan SPEC \
                instead. /_fake/stats counts what each plan injected.
                """
        )
    )
    var faults: String?

    @Option(help: "The seed of the fault plans whose spec names none.")
    var seed: UInt64 = 0

    func validate() throws {
        _ = try self.plan()
    }

    func run() async throws {
        let fake = try await FakeGeminiServer.start(
            port: self.port,
            apiKey: self.apiKey,
            faults: try self.plan(),
            faultSeed: self.seed
        )
        try await serve(baseURL: fake.baseURL)
    }

    private func plan() throws -> FaultPlan? {
        guard let spec = self.faults else { return nil }
        do {
            return try FaultPlan(spec: spec, seed: self.seed)
        } catch {
            throw ValidationError("--faults: \(error)")
        }
    }
}

/// Announces where a started fake listens, then keeps the process alive until it is stopped.
func serve(baseURL: String) async throws {
    print("listening on \(baseURL)")
    fflush(nil)  // flush every stream: the parent reads this line through a pipe
    while !Task.isCancelled {
        try await Task.sleep(for: .seconds(3600))
    }
}
