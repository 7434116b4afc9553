import Foundation

/// How keys, teams and spend-log rows map onto the store's columns, the same in SQLite and PostgreSQL: the
/// column lists, the values a record binds and the record a row decodes to.
enum StoreColumns {
    static let limitColumns = "max_budget, budget_duration, budget_reset_at, spend, rpm_limit, tpm_limit, max_parallel_requests"
    static let teamColumns =
        "team_id, team_alias, models, \(limitColumns), blocked, metadata, source, created_at, updated_at"
    static let keyColumns =
        "token_hash, key_name, key_alias, user_id, team_id, models, \(limitColumns), expires, blocked, metadata, source, created_at, updated_at"

    static func names(_ columns: String) -> [Substring] {
        columns.split(separator: ",").map { $0.drop { $0 == " " } }
    }

    /// `?1, ?2, …` (SQLite) or `$1, $2, …` (PostgreSQL), one per column.
    static func placeholders(_ columns: String, marker: Character = "?") -> String {
        (1...Self.names(columns).count).map { "\(marker)\($0)" }.joined(separator: ", ")
    }

    /// `column = ?n` for every column but the first, which the WHERE clause names as `?1`, and those in `except`.
    static func assignments(_ columns: String, except: Set<Substring>, marker: Character = "?") -> String {
        Self.names(columns).enumerated().dropFirst().filter { !except.contains($1) }.map { "\($1) = \(marker)\($0 + 1)" }
            .joined(separator: ", ")
    }

    /// Columns an update leaves alone: spend changes only through ``record(_:)``, whose batches an update
    /// must not overwrite (the cache's spend includes what is not written yet), and a row's creation time.
    static let batchOwnedColumns: Set<Substring> = ["spend", "created_at"]

    static func values(of limits: SpendLimits, spend: Double) -> [StoreValue] {
        [
            StoreValue(limits.maxBudget), StoreValue(limits.budgetDuration?.description),
            StoreValue(limits.budgetResetAt?.timeIntervalSince1970), .real(spend), StoreValue(limits.rpmLimit),
            StoreValue(limits.tpmLimit), StoreValue(limits.maxParallelRequests),
        ]
    }

    static func values(of team: TeamRecord) -> [StoreValue] {
        [.text(team.teamID), StoreValue(team.alias), .text(Self.json(team.models))]
            + Self.values(of: team.limits, spend: team.spend)
            + [
                .integer(team.blocked ? 1 : 0), .text(team.metadata.jsonText), .text(team.source.rawValue),
                .real(team.createdAt.timeIntervalSince1970),
                .real(team.updatedAt.timeIntervalSince1970),
            ]
    }

    static func values(of key: KeyRecord) -> [StoreValue] {
        [
            .text(key.tokenHash), .text(key.keyName), StoreValue(key.alias), StoreValue(key.userID), StoreValue(key.teamID),
            .text(Self.json(key.models)),
        ]
            + Self.values(of: key.limits, spend: key.spend)
            + [
                StoreValue(key.expires?.timeIntervalSince1970), .integer(key.blocked ? 1 : 0), .text(key.metadata.jsonText),
                .text(key.source.rawValue), .real(key.createdAt.timeIntervalSince1970), .real(key.updatedAt.timeIntervalSince1970),
            ]
    }

    static func limits(from row: StoreRow) -> SpendLimits {
        SpendLimits(
            maxBudget: row.double("max_budget"),
            budgetDuration: row.string("budget_duration").flatMap(BudgetDuration.init),
            budgetResetAt: row.double("budget_reset_at").map(Date.init(timeIntervalSince1970:)),
            rpmLimit: row.int("rpm_limit"),
            tpmLimit: row.int("tpm_limit"),
            maxParallelRequests: row.int("max_parallel_requests")
        )
    }

    static func team(from row: StoreRow) -> TeamRecord {
        TeamRecord(
            teamID: row.string("team_id") ?? "",
            alias: row.string("team_alias"),
            models: Self.strings(row.string("models")),
            limits: Self.limits(from: row),
            spend: row.double("spend") ?? 0,
            blocked: row.int("blocked") == 1,
            metadata: Self.object(row.string("metadata")),
            source: row.string("source").flatMap(RecordSource.init(rawValue:)) ?? .api,
            createdAt: Date(timeIntervalSince1970: row.double("created_at") ?? 0),
            updatedAt: Date(timeIntervalSince1970: row.double("updated_at") ?? 0)
        )
    }

    static func key(from row: StoreRow) -> KeyRecord {
        KeyRecord(
            tokenHash: row.string("token_hash") ?? "",
            keyName: row.string("key_name") ?? "",
            alias: row.string("key_alias"),
            userID: row.string("user_id"),
            teamID: row.string("team_id"),
            models: Self.strings(row.string("models")),
            limits: Self.limits(from: row),
            spend: row.double("spend") ?? 0,
            expires: row.double("expires").map(Date.init(timeIntervalSince1970:)),
            blocked: row.int("blocked") == 1,
            metadata: Self.object(row.string("metadata")),
            source: row.string("source").flatMap(RecordSource.init(rawValue:)) ?? .api,
            createdAt: Date(timeIntervalSince1970: row.double("created_at") ?? 0),
            updatedAt: Date(timeIntervalSince1970: row.double("updated_at") ?? 0)
        )
    }

    static func json(_ strings: [String]) -> String {
        JSONValue.array(strings.map { .string($0) }).jsonText
    }

    static func strings(_ text: String?) -> [String] {
        guard let text, case .array(let items)? = try? JSONValue.parse(text) else { return [] }
        return items.compactMap(\.stringValue)
    }

    static func object(_ text: String?) -> JSONValue {
        text.flatMap { try? JSONValue.parse($0) } ?? .object([:])
    }

    static let logColumns =
        "request_id, start_time, end_time, key_name, key_hash_prefix, key_alias, team_id, user_id, model_group, deployment, "
        + "provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, thinking_tokens, spend, status, "
        + "error_type, session_id, duration_ms, attempts"

    static func values(of row: SpendLogRow) -> [StoreValue] {
        [
            .text(row.requestID), .real(row.startTime), .real(row.endTime), StoreValue(row.keyName), StoreValue(row.keyHashPrefix),
            StoreValue(row.keyAlias), StoreValue(row.teamID), StoreValue(row.userID), StoreValue(row.modelGroup),
            StoreValue(row.deployment), StoreValue(row.provider), StoreValue(row.model), StoreValue(row.inputTokens),
            StoreValue(row.outputTokens), StoreValue(row.cacheReadTokens), StoreValue(row.cacheWriteTokens),
            StoreValue(row.thinkingTokens), .real(row.spend), StoreValue(row.status), StoreValue(row.errorType),
            StoreValue(row.sessionID), .real(row.durationMS), StoreValue(row.attempts),
        ]
    }

    static func logRow(from row: StoreRow) -> SpendLogRow {
        SpendLogRow(
            requestID: row.string("request_id") ?? "", startTime: row.double("start_time") ?? 0, endTime: row.double("end_time") ?? 0,
            keyName: row.string("key_name"), keyHashPrefix: row.string("key_hash_prefix"), keyAlias: row.string("key_alias"),
            teamID: row.string("team_id"), userID: row.string("user_id"), modelGroup: row.string("model_group"),
            deployment: row.string("deployment"), provider: row.string("provider"), model: row.string("model"),
            inputTokens: row.int("input_tokens") ?? 0, outputTokens: row.int("output_tokens") ?? 0,
            cacheReadTokens: row.int("cache_read_tokens") ?? 0, cacheWriteTokens: row.int("cache_write_tokens") ?? 0,
            thinkingTokens: row.int("thinking_tokens") ?? 0, spend: row.double("spend") ?? 0, status: row.int("status") ?? 0,
            errorType: row.string("error_type"), sessionID: row.string("session_id"), durationMS: row.double("duration_ms") ?? 0,
            attempts: row.int("attempts") ?? 1
        )
    }

    // MARK: Spend-log queries

    /// The spend log's rows matching `filter`, newest first, at most `limit`.
    static func spendLogQuery(_ filter: SpendLogFilter, limit: Int, marker: Character = "?") -> (String, [StoreValue]) {
        var conditions: [String] = []
        var values: [StoreValue] = [.integer(Int64(limit))]
        for (column, value) in [
            ("request_id", filter.requestID), ("session_id", filter.sessionID), ("team_id", filter.teamID), ("user_id", filter.userID),
        ] {
            guard let value else { continue }
            values.append(.text(value))
            conditions.append("\(column) = \(marker)\(values.count)")
        }
        if let key = filter.key { conditions.append(Self.keyCondition(key, values: &values, marker: marker)) }
        let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") + " "
        return ("SELECT * FROM spend_logs \(clause)ORDER BY start_time DESC, request_id LIMIT \(marker)1", values)
    }

    /// The spend log summed per day (`day`: the backend's expression for `start_time`'s UTC date), key, team,
    /// user and model.
    static func spendReportQuery(_ filter: SpendReportFilter, day: String, marker: Character = "?") -> (String, [StoreValue]) {
        var conditions = ["start_time >= \(marker)1", "start_time < \(marker)2"]
        var values: [StoreValue] = [.real(filter.start), .real(filter.end)]
        for (column, value) in [("team_id", filter.teamID), ("user_id", filter.userID)] {
            guard let value else { continue }
            values.append(.text(value))
            conditions.append("\(column) = \(marker)\(values.count)")
        }
        if let key = filter.key { conditions.append(Self.keyCondition(key, values: &values, marker: marker)) }
        let sql = """
            SELECT \(day) AS day, key_hash_prefix, key_name, key_alias, team_id,
                user_id, COALESCE(model_group, model) AS report_model, SUM(spend) AS total_spend,
                SUM(input_tokens + cache_read_tokens + cache_write_tokens) AS total_input, SUM(output_tokens) AS total_output,
                COUNT(*) AS requests
            FROM spend_logs WHERE \(conditions.joined(separator: " AND "))
            GROUP BY day, key_hash_prefix, key_name, key_alias, team_id, user_id, report_model
            ORDER BY day, total_spend DESC
            """
        return (sql, values)
    }

    static func reportRow(from row: StoreRow) -> SpendReportRow {
        SpendReportRow(
            day: row.string("day") ?? "", keyHashPrefix: row.string("key_hash_prefix"), keyName: row.string("key_name"),
            keyAlias: row.string("key_alias"), teamID: row.string("team_id"), userID: row.string("user_id"),
            model: row.string("report_model"), spend: row.double("total_spend") ?? 0, inputTokens: row.int("total_input") ?? 0,
            outputTokens: row.int("total_output") ?? 0, requests: row.int("requests") ?? 0
        )
    }

    /// Rows of `key`: by hash prefix, or by name alone for rows from before schema version 2 (which have no
    /// prefix) and for a key known only by its name. Appends the condition's parameters to `values`.
    static func keyCondition(_ key: (hashPrefix: String, name: String), values: inout [StoreValue], marker: Character) -> String {
        values += [.text(key.hashPrefix), .text(key.name)]
        let (prefix, name) = (values.count - 1, values.count)
        return "(key_hash_prefix = \(marker)\(prefix) OR ((key_hash_prefix IS NULL OR \(marker)\(prefix) = '') AND key_name = \(marker)\(name)))"
    }
}
