import Logging
import ServiceLifecycle

/// Writes the keys' spend and the spend log every 100 ms while the gateway serves, and once more when it
/// stops (the server has drained by then, so every finished request is in). A `kill -9` loses at most the
/// last 100 ms. With `spend_log_retention_days`, rows older than that are deleted at start and hourly.
public struct SpendFlushService: Service {
    let keys: KeyDirectory
    let logger: Logger
    let interval: Duration
    let retentionDays: Int?

    public init(keys: KeyDirectory, logger: Logger, interval: Duration = .milliseconds(100), retentionDays: Int? = nil) {
        self.keys = keys
        self.logger = logger
        self.interval = interval
        self.retentionDays = retentionDays
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastPrune = ContinuousClock.now - .seconds(3_600)
            while !Task.isCancelled {
                if ContinuousClock.now - lastPrune >= .seconds(3_600) {
                    await self.prune()
                    lastPrune = .now
                }
                try? await Task.sleep(for: self.interval)
                await self.flush()
            }
        }
        await self.flush()
    }

    private func prune() async {
        guard let days = self.retentionDays else { return }
        do {
            let deleted = try await self.keys.pruneSpendLogs(olderThanDays: days)
            if deleted > 0 { self.logger.notice("spend log: deleted \(deleted) rows older than \(days) days") }
        } catch {
            self.logger.error("could not delete old spend-log rows", metadata: ["error": "\(error)"])
        }
    }

    private func flush() async {
        do {
            try await self.keys.flush()
        } catch {
            // The batch stays pending; the next flush tries again.
            self.logger.error("could not write spend to the database", metadata: ["error": "\(error)"])
        }
    }
}
