import ArgumentParser
import Foundation
import SwitchboardTesting

/// Runs a fake upstream as a process, for end-to-end tests and benchmarks.
@main
struct FakesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-fakes",
        abstract: "Run a fake upstream on 127.0.0.1 until interrupted.",
        subcommands: [AnthropicCommand.self, GeminiCommand.self]
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

struct GeminiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemini",
        abstract: "A fake Gemini API (generateContent, streamGenerateContent, countTokens under /v1beta)."
    )

    @Option(help: "Port on 127.0.0.1 (0 picks one; the chosen port is printed).")
    var port: Int = 0

    @Option(help: "The only x-goog-api-key the fake accepts.")
    var apiKey: String = "fake-gemini-key"

    func run() async throws {
        let fake = try await FakeGeminiServer.start(port: self.port, apiKey: self.apiKey)
        try await serve(baseURL: fake.baseURL)
    }
}

/// Announces where a started fake listens, then keeps the process alive until it is stopped.
private func serve(baseURL: String) async throws {
    print("listening on \(baseURL)")
    fflush(nil)  // flush every stream: the parent reads this line through a pipe
    while !Task.isCancelled {
        try await Task.sleep(for: .seconds(3600))
    }
}
