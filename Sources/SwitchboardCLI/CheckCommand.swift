import ArgumentParser
import Foundation
import Switchboard

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration and print the routes it resolves to."
    )

    @Option(name: .long, help: "The YAML configuration to check (default: the embedded one).")
    var config: String?

    func run() throws {
        let result: ConfigurationLoader.Result
        do {
            (result, _) = try ConfigurationSource(path: self.config).load(environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigurationError {
            print("error: \(self.config ?? "embedded default"): \(error)")
            throw ExitCode.failure
        }
        for warning in result.warnings { print("warning: \(warning)") }
        print(RouteReport(configuration: result.configuration).text, terminator: "")
    }
}
