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
                        "INSERT OR IGNORE INTO spend_logs (\(StoreColumns.logColumns)) VALUES (\(StoreColumns.placeholders(StoreColumns.logColumns)))"
                    )
                    for row in batch.logRows {
                        try insert.reset()
                        try insert.bind(StoreColumns.values(of: row))
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
        let (sql, values) = StoreColumns.spendLogQuery(filter, limit: limit)
        return try self.connection.withLock { try $0.query(sql, values) }.map(StoreColumns.logRow(from:))
    }

    func spendReport(_ filter: SpendReportFilter) throws -> [SpendReportRow] {
        let (sql, values) = StoreColumns.spendReportQuery(filter, day: "strftime('%Y-%m-%d', start_time, 'unixepoch')")
        return try self.connection.withLock { try $0.query(sql, values) }.map(StoreColumns.reportRow(from:))
    }

    func deleteSpendLogs(before time: Date) throws -> Int {
        try self.connection.withLock { try $0.run("DELETE FROM spend_logs WHERE start_time < ?1", [.real(time.timeIntervalSince1970)]) }
    }
}
