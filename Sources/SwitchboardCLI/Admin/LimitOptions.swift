import Foundation
import ArgumentParser

/// The limits keys and teams share, as flags named after the admin API's fields.
struct LimitOptions: ParsableArguments {
    @Option(help: "Model names or wildcards it may use, comma-separated (models).")
    var models: String?
    @Option(help: "US dollars per budget period (max_budget).")
    var maxBudget: Double?
    @Option(help: "When the budget starts again: 30s, 15m, 1h, 7d, 30d, 1mo (budget_duration).")
    var budgetDuration: String?
    @Option(help: "Requests per minute (rpm_limit).")
    var rpm: Int?
    @Option(help: "Tokens per minute (tpm_limit).")
    var tpm: Int?
    @Option(help: "Requests at once (max_parallel_requests).")
    var parallel: Int?

    /// The fields set, in the admin API's names.
    var fields: [String: Any] {
        var fields: [String: Any] = [:]
        if let models { fields["models"] = models.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        if let maxBudget { fields["max_budget"] = maxBudget }
        if let budgetDuration { fields["budget_duration"] = budgetDuration }
        if let rpm { fields["rpm_limit"] = rpm }
        if let tpm { fields["tpm_limit"] = tpm }
        if let parallel { fields["max_parallel_requests"] = parallel }
        return fields
    }
}

/// Prints an admin API answer: its JSON with `--json`, else `table` of it.
func printAnswer(_ answer: Any, options: AdminOptions, table: (Any) -> TextTable) throws {
    if options.json {
        let data = try JSONSerialization.data(withJSONObject: answer, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    } else {
        print(table(answer).text, terminator: "")
    }
}
