import Logging
import ServiceLifecycle

/// Writes the keys' spend and the spend log every 100 ms while the gateway serves, and once more when it
/// stops (the server has drained by then, so every finished request is in). A `kill -9` loses at most the
/// last 100 ms. With `spend_log_retention_days`, rows older than that are deleted at start and hourly.
///
/// On a shared store each round is a ``KeyDirectory/synchronize()``: it also reads back every replica's
/// spend and reloads keys and teams another replica changed, sooner when the store announces a change.
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
            await withTaskGroup(of: Void.self) { group in
                if let replicas = self.keys.replicas {
                    group.addTask { await self.listen(replicas.coordinator) }
                }
                group.addTask { await self.loop() }
                await group.next()
                group.cancelAll()
            }
        }
        await self.synchronize()
    }

    private func loop() async {
        var lastPrune = ContinuousClock.now - .seconds(3_600)
        while !Task.isCancelled {
            if ContinuousClock.now - lastPrune >= .seconds(3_600) {
                await self.prune()
                lastPrune = .now
            }
            try? await Task.sleep(for: self.interval)
            await self.synchronize()
        }
    }

    /// Synchronizes at once whenever another replica announces a change to a key or team; reconnects after a
    /// second when the connection is lost (the loop's polling covers the gap).
    private func listen(_ coordinator: any ReplicaCoordinator) async {
        while !Task.isCancelled {
            do {
                try await coordinator.awaitChanges { await self.synchronize() }
            } catch {
                self.logger.debug("listening for key changes failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func prune() async {
        do {
            try await self.keys.replicas?.coordinator.prune()
        } catch {
            self.logger.warning("could not delete old rate-limit counters", metadata: ["error": "\(String(reflecting: error))"])
        }
        guard let days = self.retentionDays else { return }
        do {
            let deleted = try await self.keys.pruneSpendLogs(olderThanDays: days)
            if deleted > 0 { self.logger.notice("spend log: deleted \(deleted) rows older than \(days) days") }
        } catch {
            self.logger.error("could not delete old spend-log rows", metadata: ["error": "\(error)"])
        }
    }

    private func synchronize() async {
        do {
            try await self.keys.synchronize()
        } catch {
            // The batch stays to be written; the next round tries again. With a shared store the directory
            // has logged entering degraded mode once; each failed round need not say it again.
            if self.keys.replicas == nil {
                self.logger.error("could not write spend to the database", metadata: ["error": "\(error)"])
            }
        }
    }
}
