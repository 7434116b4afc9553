import ArgumentParser

@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "An observability-first gateway that lets Anthropic Messages clients such as Claude Code use other models.",
        subcommands: [ServeCommand.self, CheckCommand.self, KeysCommand.self, TeamsCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
