import Foundation

/// The spend side of the embedded store: batches of spend, the gateway's own budget, and the spend log
/// (the audit trail) with its filters, daily report and retention.
extension SQLiteGovernanceStore {
    func record(_ batch: SpendBatch) throws {
        guard !batch.isEmpty else { return }
        try self.connection.withLock { connection in
            try connection.transaction {
                for reset in batch.resets {
                    switch reset.scope {
                    case .key(let hash):
                        try connection.run("UPDATE keys SET spend = 0, budget_reset_at = ?2 WHERE token_hash = ?1", [.text(hash), .real(reset.next)])
                    case .team(let id):
                        try connection.run("UPDATE teams SET spend = 0, budget_reset_at = ?2 WHERE team_id = ?1", [.text(id), .real(reset.next)])
                    case .gateway:
                        try connection.run("UPDATE gateway_budget SET spend = 0, budget_reset_at = ?1 WHERE id = 1", [.real(reset.next)])
                    }
                }
                for (hash, amount) in batch.keySpend {
                    try connection.run("UPDATE keys SET spend = spend + ?2 WHERE token_hash = ?1", [.text(hash), .real(amount)])
                }
                for (id, amount) in batch.teamSpend {
                    try connection.run("UPDATE teams SET spend = spend + ?2 WHERE team_id = ?1", [.text(id), .real(amount)])
                }
                if batch.gatewaySpend != 0 {
                    try connection.run("UPDATE gateway_budget SET spend = spend + ?1 WHERE id = 1", [.real(batch.gatewaySpend)])
                }
                if !batch.logRows.isEmpty {
                    let insert = try connection.prepare(
                        "INSERT OR IGNORE INTO spend_logs (\(Self.logColumns)) VALUES (\(Self.placeholders(Self.logColumns)))"
                    )
                    for row in batch.logRows {
                        try insert.reset()
                        try insert.bind(Self.values(of: row))
                        _ = try insert.step()
                    }
                }
            }
        }
    }

    func gatewaySpend() throws -> GatewaySpend {
        let row = try self.connection.withLock { try $0.query("SELECT spend, budget_reset_at FROM gateway_budget WHERE id = 1") }.first
        return GatewaySpend(
            spend: row?.double("spend") ?? 0, resetAt: row?.double("budget_reset_at").map(Date.init(timeIntervalSince1970:))
        )
    }

    func spendLogs(_ filter: SpendLogFilter, limit: Int) throws -> [SpendLogRow] {
        var conditions: [String] = []
        var values: [SQLiteValue] = [.integer(Int64(limit))]
        for (column, value) in [
            ("request_id", filter.requestID), ("session_id", filter.sessionID), ("team_id", filter.teamID), ("user_id", filter.userID),
        ] {
            guard let value else { continue }
            values.append(.text(value))
            conditions.append("\(column) = ?\(values.count)")
        }
        if let key = filter.key { conditions.append(Self.keyCondition(key, values: &values)) }
        let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") + " "
        return try self.connection.withLock {
            try $0.query("SELECT * FROM spend_logs \(clause)ORDER BY start_time DESC, request_id LIMIT ?1", values)
        }.map(Self.logRow(from:))
    }

    func spendReport(_ filter: SpendReportFilter) throws -> [SpendReportRow] {
        var conditions = ["start_time >= ?1", "start_time < ?2"]
        var values: [SQLiteValue] = [.real(filter.start), .real(filter.end)]
        for (column, value) in [("team_id", filter.teamID), ("user_id", filter.userID)] {
            guard let value else { continue }
            values.append(.text(value))
            conditions.append("\(column) = ?\(values.count)")
        }
        if let key = filter.key { conditions.append(Self.keyCondition(key, values: &values)) }
        let sql = """
            SELECT strftime('%Y-%m-%d', start_time, 'unixepoch') AS day, key_hash_prefix, key_name, key_alias, team_id,
                user_id, COALESCE(model_group, model) AS report_model, SUM(spend) AS total_spend,
                SUM(input_tokens + cache_read_tokens + cache_write_tokens) AS total_input, SUM(output_tokens) AS total_output,
                COUNT(*) AS requests
            FROM spend_logs WHERE \(conditions.joined(separator: " AND "))
            GROUP BY day, key_hash_prefix, key_name, key_alias, team_id, user_id, report_model
            ORDER BY day, total_spend DESC
            """
        return try self.connection.withLock { try $0.query(sql, values) }.map { row in
            SpendReportRow(
                day: row.string("day") ?? "", keyHashPrefix: row.string("key_hash_prefix"), keyName: row.string("key_name"),
                keyAlias: row.string("key_alias"), teamID: row.string("team_id"), userID: row.string("user_id"),
                model: row.string("report_model"), spend: row.double("total_spend") ?? 0, inputTokens: row.int("total_input") ?? 0,
                outputTokens: row.int("total_output") ?? 0, requests: row.int("requests") ?? 0
            )
        }
    }

    func deleteSpendLogs(before time: Date) throws -> Int {
        try self.connection.withLock { try $0.run("DELETE FROM spend_logs WHERE start_time < ?1", [.real(time.timeIntervalSince1970)]) }
    }

    /// Rows of `key`: by hash prefix, or by name alone for rows from before schema version 2 (which have no
    /// prefix) and for a key known only by its name. Appends the condition's parameters to `values`.
    private static func keyCondition(_ key: (hashPrefix: String, name: String), values: inout [SQLiteValue]) -> String {
        values += [.text(key.hashPrefix), .text(key.name)]
        let (prefix, name) = (values.count - 1, values.count)
        return "(key_hash_prefix = ?\(prefix) OR ((key_hash_prefix IS NULL OR ?\(prefix) = '') AND key_name = ?\(name)))"
    }

    private static let logColumns =
        "request_id, start_time, end_time, key_name, key_hash_prefix, key_alias, team_id, user_id, model_group, deployment, "
        + "provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, thinking_tokens, spend, status, "
        + "error_type, session_id, duration_ms, attempts"

    private static func values(of row: SpendLogRow) -> [SQLiteValue] {
        [
            .text(row.requestID), .real(row.startTime), .real(row.endTime), SQLiteValue(row.keyName), SQLiteValue(row.keyHashPrefix),
            SQLiteValue(row.keyAlias), SQLiteValue(row.teamID), SQLiteValue(row.userID), SQLiteValue(row.modelGroup),
            SQLiteValue(row.deployment), SQLiteValue(row.provider), SQLiteValue(row.model), SQLiteValue(row.inputTokens),
            SQLiteValue(row.outputTokens), SQLiteValue(row.cacheReadTokens), SQLiteValue(row.cacheWriteTokens),
            SQLiteValue(row.thinkingTokens), .real(row.spend), SQLiteValue(row.status), SQLiteValue(row.errorType),
            SQLiteValue(row.sessionID), .real(row.durationMS), SQLiteValue(row.attempts),
        ]
    }

    private static func logRow(from row: SQLiteRow) -> SpendLogRow {
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
}
