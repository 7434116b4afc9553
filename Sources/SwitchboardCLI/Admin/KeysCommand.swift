import ArgumentParser
import Foundation

/// `switchboard keys …`: LiteLLM's `/key/*` API from the command line, printing tables.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make, list, change and revoke virtual keys (on a running gateway, or its database file when none runs).",
        subcommands: [Create.self, List.self, Info.self, Update.self, Revoke.self]
    )

    static let columns = ["key_name", "key_alias", "user_id", "team_id", "models", "spend", "max_budget", "budget_duration", "rpm_limit",
        "tpm_limit", "max_parallel_requests", "expires", "blocked"]

    static func table(_ keys: [[String: Any]]) -> TextTable {
        var table = TextTable(columns: Self.columns.map { $0.uppercased() })
        table.rows = keys.map { key in Self.columns.map { $0 == "blocked" ? TextTable.flag(key[$0]) : TextTable.cell(key[$0]) } }
        return table
    }

    /// Key fields besides the limits.
    struct KeyOptions: ParsableArguments {
        @Option(help: "A name for the key (key_alias).") var alias: String?
        @Option(help: "Who the key is for, free text (user_id).") var user: String?
        @Option(help: "The team it belongs to (team_id).") var team: String?
        @Option(help: "Expires after: 1h, 7d, 30d… (duration).") var expiresIn: String?

        var fields: [String: Any] {
            var fields: [String: Any] = [:]
            if let alias { fields["key_alias"] = alias }
            if let user { fields["user_id"] = user }
            if let team { fields["team_id"] = team }
            if let expiresIn { fields["duration"] = expiresIn }
            return fields
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key; it is printed this once.")
        @OptionGroup var key: KeyOptions
        @OptionGroup var limits: LimitOptions
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let answer = try await self.options.call("POST", "/key/generate", body: self.key.fields.merging(self.limits.fields) { $1 })
            try printAnswer(answer, options: self.options) { answer in
                let made = answer as? [String: Any] ?? [:]
                var table = TextTable(columns: ["KEY", "KEY_ALIAS", "TEAM_ID", "MAX_BUDGET"])
                table.rows = [[TextTable.cell(made["key"]), TextTable.cell(made["key_alias"]), TextTable.cell(made["team_id"]), TextTable.cell(made["max_budget"])]]
                return table
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every key, oldest first.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let answer = try await self.options.call("GET", "/key/list?return_full_object=true")
            try printAnswer(answer, options: self.options) { KeysCommand.table(($0 as? [String: Any])?["keys"] as? [[String: Any]] ?? []) }
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One key, by the key or its hash.")
        @Argument(help: "The key (sk-…) or its hash.") var key: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let answer = try await self.options.call("GET", "/key/info?key=\(self.key)")
            try printAnswer(answer, options: self.options) { KeysCommand.table([($0 as? [String: Any])?["info"] as? [String: Any] ?? [:]]) }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a key's fields; those not given stay.")
        @Argument(help: "The key (sk-…) or its hash.") var key: String
        @OptionGroup var fields: KeyOptions
        @OptionGroup var limits: LimitOptions
        @Flag(inversion: .prefixedNo, help: "Block the key (401 on every request) or let it work again.") var block: Bool?
        @OptionGroup var options: AdminOptions

        func run() async throws {
            var body = self.fields.fields.merging(self.limits.fields) { $1 }
            body["key"] = self.key
            if let block = self.block { body["blocked"] = block }
            let answer = try await self.options.call("POST", "/key/update", body: body)
            try printAnswer(answer, options: self.options) { KeysCommand.table([$0 as? [String: Any] ?? [:]]) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete keys: they stop working at once.")
        @Argument(help: "Keys (sk-…) or their hashes.") var keys: [String]
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let answer = try await self.options.call("POST", "/key/delete", body: ["keys": self.keys])
            try printAnswer(answer, options: self.options) { TextTable.list("DELETED", ($0 as? [String: Any])?["deleted_keys"]) }
        }
    }
}
