import Foundation
import Hummingbird

/// `GET /global/spend/report`: the spend log summed per UTC day, in LiteLLM's shapes.
///
/// - `start_date`, `end_date` (`YYYY-MM-DD`, UTC, both days included; default the last 30 days);
/// - `group_by`: `team` (default) → `[{"group_by_day", "teams": [{"team_name", "total_spend", "metadata":
///   [{"model", "spend", "total_tokens"}]}]}]`; `customer` → the same with `"customers": [{"customer", …}]`
///   (the key's `user_id`); `model` (ours) → `"models": [{"model", "total_spend", "total_tokens", "requests"}]`;
///   `api_key` → one entry per key over the whole range, not per day, as LiteLLM answers it:
///   `[{"api_key", "key_alias", "total_cost", "total_input_tokens", "total_output_tokens", "model_details": […]}]`;
/// - filters: `api_key` (a key or its hash), `team_id`, `internal_user_id` (or `customer_id`).
struct SpendReportEndpoint: Sendable {
    let directory: KeyDirectory

    enum Grouping: String, CaseIterable {
        case team, customer, model
        case apiKey = "api_key"
    }

    func report(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let today = UTCTime.dayStart(Date())
        let start = try Self.day(query.get("start_date"), "start_date") ?? today.addingTimeInterval(-29 * 86_400)
        let end = (try Self.day(query.get("end_date"), "end_date") ?? today).addingTimeInterval(86_400)
        guard start < end else { throw AnthropicError.invalidRequest("start_date: must not be after end_date") }
        let groupName = query.get("group_by") ?? Grouping.team.rawValue
        guard let grouping = Grouping(rawValue: groupName) else {
            let names = Grouping.allCases.map(\.rawValue).joined(separator: ", ")
            throw AnthropicError.invalidRequest("group_by: expected one of \(names); got \"\(groupName)\"")
        }
        try await self.directory.flush()
        let filter = SpendReportFilter(
            start: start.timeIntervalSince1970, end: end.timeIntervalSince1970, key: query.get("api_key").map(self.directory.spendLogKey),
            teamID: query.get("team_id"),
            userID: (query.get("internal_user_id") ?? query.get("customer_id"))
        )
        let rows = try await self.directory.spendReport(filter)
        switch grouping {
        case .apiKey: return AdminJSON.response(.array(self.byKey(rows)))
        case .team: return AdminJSON.response(.array(self.byDay(rows, list: "teams", name: "team_name") { self.teamName($0.teamID) }))
        case .customer: return AdminJSON.response(.array(self.byDay(rows, list: "customers", name: "customer") { $0.userID }))
        case .model: return AdminJSON.response(.array(self.byDayAndModel(rows)))
        }
    }

    /// Per day, per group: the group's total and its spend per model.
    private func byDay(_ rows: [SpendReportRow], list: String, name: String, group: (SpendReportRow) -> String?) -> [JSONValue] {
        Self.days(rows).map { day, rows in
            let groups = Self.ordered(rows, by: { group($0) ?? "" }).map { groupName, rows -> JSONValue in
                let models = Self.ordered(rows, by: { $0.model ?? "" }).map { model, rows -> JSONValue in
                    .object([
                        "model": .string(model), "spend": .number(rows.map(\.spend).reduce(0, +)),
                        "total_tokens": .number(Double(rows.map { $0.inputTokens + $0.outputTokens }.reduce(0, +))),
                    ])
                }
                return .object([
                    name: groupName.isEmpty ? .null : .string(groupName), "total_spend": .number(rows.map(\.spend).reduce(0, +)),
                    "metadata": .array(models),
                ])
            }
            return .object(["group_by_day": .string("\(day)T00:00:00+00:00"), list: .array(groups)])
        }
    }

    private func byDayAndModel(_ rows: [SpendReportRow]) -> [JSONValue] {
        Self.days(rows).map { day, rows in
            let models = Self.ordered(rows, by: { $0.model ?? "" }).map { model, rows -> JSONValue in
                .object([
                    "model": .string(model), "total_spend": .number(rows.map(\.spend).reduce(0, +)),
                    "total_tokens": .number(Double(rows.map { $0.inputTokens + $0.outputTokens }.reduce(0, +))),
                    "requests": .number(Double(rows.map(\.requests).reduce(0, +))),
                ])
            }
            return .object(["group_by_day": .string("\(day)T00:00:00+00:00"), "models": .array(models)])
        }
    }

    /// Per key over the whole range; requests on the master key are under `api_key: null`.
    private func byKey(_ rows: [SpendReportRow]) -> [JSONValue] {
        func totals(_ rows: [SpendReportRow]) -> JSONObject {
            [
                "total_cost": .number(rows.map(\.spend).reduce(0, +)),
                "total_input_tokens": .number(Double(rows.map(\.inputTokens).reduce(0, +))),
                "total_output_tokens": .number(Double(rows.map(\.outputTokens).reduce(0, +))),
            ]
        }
        return Self.ordered(rows, by: { $0.keyHashPrefix ?? $0.keyName ?? "" }).map { _, rows in
            var entry = totals(rows)
            entry["api_key"] = rows[0].keyName.map { .string($0) } ?? .null
            entry["key_alias"] = rows[0].keyAlias.map { .string($0) } ?? .null
            entry["model_details"] = .array(Self.ordered(rows, by: { $0.model ?? "" }).map { model, rows in
                var detail = totals(rows)
                detail["model"] = .string(model)
                return .object(detail)
            })
            return .object(entry)
        }
    }

    private func teamName(_ id: String?) -> String? {
        id.map { self.directory.team(id: $0)?.alias ?? $0 }
    }

    /// Rows grouped by `key`, the groups in order of the first row of each (the rows come by day, then spend).
    private static func ordered(_ rows: [SpendReportRow], by key: (SpendReportRow) -> String) -> [(String, [SpendReportRow])] {
        var order: [String] = []
        var groups: [String: [SpendReportRow]] = [:]
        for row in rows {
            let name = key(row)
            if groups[name] == nil { order.append(name) }
            groups[name, default: []].append(row)
        }
        return order.map { ($0, groups[$0]!) }
    }

    private static func days(_ rows: [SpendReportRow]) -> [(String, [SpendReportRow])] {
        self.ordered(rows, by: \.day)
    }

    private static func day(_ text: String?, _ field: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = UTCTime.day(text) else {
            throw AnthropicError.invalidRequest("\(field): expected a date as YYYY-MM-DD; got \"\(text)\"")
        }
        return date
    }
}
