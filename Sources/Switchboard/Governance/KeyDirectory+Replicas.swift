import Foundation

/// Several replicas on one shared store: each writes its own spend and reads back everyone's, so a budget is
/// checked against what all of them spent, and reloads keys and teams when another replica changed them.
extension KeyDirectory {
    /// How long one synchronization may take before the store counts as down.
    static let synchronizationTimeout = Duration.seconds(3)

    /// Writes this replica's spend; with a shared store, then reads every replica's totals and reloads keys
    /// and teams that changed. A failure marks the store down (``ReplicatedLimiter``) and is thrown.
    public func synchronize() async throws {
        guard let replicas = self.replicas else { return try await self.flush() }
        do {
            try await withDeadline(Self.synchronizationTimeout, what: "synchronizing with the shared store") {
                if !replicas.isStoreUp { try await replicas.coordinator.reconnect() }
                try await self.flush()
                try await replicas.retryReleases()
                let state = try await replicas.coordinator.synchronize()
                if state.version != self.cache.withLock(\.sharedVersion) {
                    try await self.reloadRecords(version: state.version)
                }
                self.applySharedSpend(state)
                replicas.synchronized(liveReplicas: state.liveReplicas)
            }
        } catch {
            // Cancelled at shutdown: the store did not fail.
            if !Task.isCancelled { replicas.storeFailed(error, while: "synchronizing") }
            throw error
        }
    }

    /// Reads every key and team again (another replica changed one), keeping this replica's unwritten spend.
    func reloadRecords(version: Int64) async throws {
        let keys = try await self.store.keys()
        let teams = try await self.store.teams()
        self.cache.withLock { snapshot in
            let unwritten = Self.unwritten(snapshot)
            var freshKeys: [String: KeyRecord] = [:]
            for key in keys {
                freshKeys[key.tokenHash] = Self.keepingUnwritten(
                    key, local: snapshot.keys[key.tokenHash], reset: unwritten.resets.contains(.key(hash: key.tokenHash)),
                    spend: unwritten.keySpend[key.tokenHash]
                )
            }
            var freshTeams: [String: TeamRecord] = [:]
            for team in teams {
                freshTeams[team.teamID] = Self.keepingUnwritten(
                    team, local: snapshot.teams[team.teamID], reset: unwritten.resets.contains(.team(id: team.teamID)),
                    spend: unwritten.teamSpend[team.teamID]
                )
            }
            snapshot.keys = freshKeys
            snapshot.teams = freshTeams
            snapshot.sharedVersion = version
        }
    }

    /// The store's `record` with what this replica has not written: its own spend and period when it restarted
    /// the budget period (`reset`), else the store's spend plus its unwritten `spend`.
    private static func keepingUnwritten<Record: GovernedRecord>(_ record: Record, local: Record?, reset: Bool, spend: Double?) -> Record {
        var record = record
        if reset, let local {
            (record.spend, record.limits.budgetResetAt) = (local.spend, local.limits.budgetResetAt)
        } else {
            record.spend += spend ?? 0
        }
        return record
    }

    /// Every replica's written spend plus this one's unwritten, for each key, team and the gateway; a scope
    /// whose budget period this replica restarted but has not written yet keeps its own figure.
    private func applySharedSpend(_ state: SharedState) {
        self.cache.withLock { snapshot in
            let unwritten = Self.unwritten(snapshot)
            for (hash, spend) in state.keySpend where !unwritten.resets.contains(.key(hash: hash)) {
                snapshot.keys[hash]?.spend = spend + (unwritten.keySpend[hash] ?? 0)
            }
            for (id, spend) in state.teamSpend where !unwritten.resets.contains(.team(id: id)) {
                snapshot.teams[id]?.spend = spend + (unwritten.teamSpend[id] ?? 0)
            }
            if !unwritten.resets.contains(.gateway) {
                snapshot.gateway.spend = state.gatewaySpend + unwritten.gatewaySpend
            }
        }
    }

    /// What this replica spent and has not had confirmed as written.
    private static func unwritten(_ snapshot: Snapshot) -> (keySpend: [String: Double], teamSpend: [String: Double], gatewaySpend: Double, resets: Set<SpendBatch.Reset.Scope>) {
        var batch = snapshot.writing.unconfirmed ?? SpendBatch()
        batch.merge(snapshot.pending)
        return (batch.keySpend, batch.teamSpend, batch.gatewaySpend, Set(batch.resets.map(\.scope)))
    }
}
