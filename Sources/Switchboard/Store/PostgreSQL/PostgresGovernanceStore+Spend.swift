import Foundation
import PostgresNIO

/// The spend side of the shared store. Every replica writes its own batches; a batch carries an id that is
/// written with it, so a batch retried after its answer was lost (the database committed, the connection
/// dropped) is not counted twice. A budget reset is written only when it moves the period forward, so two
/// replicas restarting the same period do not zero each other's new spend.
extension PostgresGovernanceStore {
    /// Writes `batch` once: a batch whose id was written already is skipped.
    func record(_ batch: SpendBatch) async throws {
        guard !batch.isEmpty else { return }
        try await self.client.withTransaction(logger: self.logger) { connection in
            let fresh = try await self.run(
                "INSERT INTO spend_batches (batch_id, instance_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
                [.text(batch.id), .text(self.instanceID)], on: connection
            )
            guard fresh == 1 else { return }
            for reset in batch.resets {
                switch reset.scope {
                case .key(let hash):
                    try await self.run(
                        "UPDATE keys SET spend = 0, budget_reset_at = $2 WHERE token_hash = $1 AND (budget_reset_at IS NULL OR budget_reset_at < $2)",
                        [.text(hash), .real(reset.next)], on: connection
                    )
                case .team(let id):
                    try await self.run(
                        "UPDATE teams SET spend = 0, budget_reset_at = $2 WHERE team_id = $1 AND (budget_reset_at IS NULL OR budget_reset_at < $2)",
                        [.text(id), .real(reset.next)], on: connection
                    )
                case .gateway:
                    try await self.run(
                        "UPDATE gateway_budget SET spend = 0, budget_reset_at = $1 WHERE id = 1 AND (budget_reset_at IS NULL OR budget_reset_at < $1)",
                        [.real(reset.next)], on: connection
                    )
                }
            }
            for (hash, amount) in batch.keySpend {
                try await self.run("UPDATE keys SET spend = spend + $2 WHERE token_hash = $1", [.text(hash), .real(amount)], on: connection)
            }
            for (id, amount) in batch.teamSpend {
                try await self.run("UPDATE teams SET spend = spend + $2 WHERE team_id = $1", [.text(id), .real(amount)], on: connection)
            }
            if batch.gatewaySpend != 0 {
                try await self.run("UPDATE gateway_budget SET spend = spend + $1 WHERE id = 1", [.real(batch.gatewaySpend)], on: connection)
            }
            let insert =
                "INSERT INTO spend_logs (\(StoreColumns.logColumns)) VALUES (\(StoreColumns.placeholders(StoreColumns.logColumns, marker: "$"))) "
                + "ON CONFLICT (request_id) DO NOTHING"
            for row in batch.logRows {
                try await self.run(insert, StoreColumns.values(of: row), on: connection)
            }
        }
    }

    func gatewaySpend() async throws -> GatewaySpend {
        let row = try await self.rows("SELECT spend, budget_reset_at FROM gateway_budget WHERE id = 1").first
        return GatewaySpend(
            spend: row?.double("spend") ?? 0, resetAt: row?.double("budget_reset_at").map(Date.init(timeIntervalSince1970:))
        )
    }

    func spendLogs(_ filter: SpendLogFilter, limit: Int) async throws -> [SpendLogRow] {
        let (sql, values) = StoreColumns.spendLogQuery(filter, limit: limit, marker: "$")
        return try await self.rows(sql, values).map(StoreColumns.logRow(from:))
    }

    func spendReport(_ filter: SpendReportFilter) async throws -> [SpendReportRow] {
        let day = "to_char(to_timestamp(start_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        let (sql, values) = StoreColumns.spendReportQuery(filter, day: day, marker: "$")
        return try await self.rows(sql, values).map(StoreColumns.reportRow(from:))
    }

    func deleteSpendLogs(before time: Date) async throws -> Int {
        try await self.client.withConnection { connection in
            try await self.run("DELETE FROM spend_logs WHERE start_time < $1 RETURNING 1", [.real(time.timeIntervalSince1970)], on: connection)
        }
    }
}
