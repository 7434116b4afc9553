import ArgumentParser
import Foundation

/// `switchboard teams …`: LiteLLM's `/team/*` API from the command line, printing tables.
struct TeamsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teams",
        abstract: "Make, list, change and delete teams (on a running gateway, or its database file when none runs).",
        subcommands: [Create.self, List.self, Info.self, Update.self, Delete.self]
    )

    static let columns = ["team_id", "team_alias", "models", "spend", "max_budget", "budget_duration", "rpm_limit", "tpm_limit",
        "max_parallel_requests", "blocked"]

    static func table(_ teams: [[String: Any]]) -> TextTable {
        var table = TextTable(columns: Self.columns.map { $0.uppercased() })
        table.rows = teams.map { team in Self.columns.map { $0 == "blocked" ? TextTable.flag(team[$0]) : TextTable.cell(team[$0]) } }
        return table
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a team.")
        @Option(help: "Its id (team_id; default: a new UUID).") var id: String?
        @Option(help: "A name for it (team_alias).") var alias: String?
        @OptionGroup var limits: LimitOptions
        @OptionGroup var options: AdminOptions

        func run() async throws {
            var body = self.limits.fields
            if let id { body["team_id"] = id }
            if let alias { body["team_alias"] = alias }
            let answer = try await self.options.call("POST", "/team/new", body: body)
            try printAnswer(answer, options: self.options) { TeamsCommand.table([$0 as? [String: Any] ?? [:]]) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every team, oldest first.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let answer = try await self.options.call("GET", "/team/list")
            try printAnswer(answer, options: self.options) { TeamsCommand.table($0 as? [[String: Any]] ?? []) }
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One team and its keys.")
        @Argument(help: "The team's id.") var id: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let answer = try await self.options.call("GET", "/team/info?team_id=\(self.id)")
            try printAnswer(answer, options: self.options) { answer in
                let object = answer as? [String: Any] ?? [:]
                var table = TeamsCommand.table([object["team_info"] as? [String: Any] ?? [:]])
                table.rows[0].append(String((object["keys"] as? [Any])?.count ?? 0))
                return TextTable(columns: table.columns + ["KEYS"], rows: table.rows)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a team's fields; those not given stay.")
        @Argument(help: "The team's id.") var id: String
        @Option(help: "A name for it (team_alias).") var alias: String?
        @OptionGroup var limits: LimitOptions
        @Flag(inversion: .prefixedNo, help: "Block the team's keys, or let them work again.") var block: Bool?
        @OptionGroup var options: AdminOptions

        func run() async throws {
            var body = self.limits.fields
            body["team_id"] = self.id
            if let alias { body["team_alias"] = alias }
            if let block = self.block { body["blocked"] = block }
            let answer = try await self.options.call("POST", "/team/update", body: body)
            try printAnswer(answer, options: self.options) { TeamsCommand.table([($0 as? [String: Any])?["data"] as? [String: Any] ?? [:]]) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete teams; their keys stay, without a team.")
        @Argument(help: "The teams' ids.") var ids: [String]
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let answer = try await self.options.call("POST", "/team/delete", body: ["team_ids": self.ids])
            try printAnswer(answer, options: self.options) { TextTable.list("DELETED", ($0 as? [String: Any])?["deleted_teams"]) }
        }
    }
}
