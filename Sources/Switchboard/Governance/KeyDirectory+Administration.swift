import Foundation

/// Changes through the admin API (and the config file's keys): each goes to the store and the cache
/// together, so the next request sees it. Spend is the cache's own: an update never sets it, since the
/// cache's figure includes what is not written yet.
extension KeyDirectory {
    // MARK: Keys

    /// Makes a key; returns it (the only time it is seen) with its record.
    func generate(_ template: KeyRecord) async throws -> (key: String, record: KeyRecord) {
        let secret = VirtualKey.generate()
        var record = template
        record.tokenHash = VirtualKey.hash(secret)
        record.keyName = VirtualKey.displayName(secret)
        try await self.insertKey(record)
        return (secret, record)
    }

    /// Adds a key whose hash is already known (the config file's).
    func insertKey(_ record: KeyRecord) async throws {
        try await self.store.insertKey(record)
        self.cache.withLock { $0.keys[record.tokenHash] = record }
    }

    /// The record of a key given as itself or as its hash.
    func key(_ keyOrHash: String) -> KeyRecord? {
        let hash = keyOrHash.hasPrefix("sk-") ? VirtualKey.hash(keyOrHash) : keyOrHash
        return self.cache.withLock { $0.keys[hash] }
    }

    func key(alias: String) -> KeyRecord? {
        self.cache.withLock { $0.keys.values.first { $0.alias == alias } }
    }

    /// Every key, oldest first.
    func keys() -> [KeyRecord] {
        self.cache.withLock { $0.keys.values.sorted { ($0.createdAt, $0.tokenHash) < ($1.createdAt, $1.tokenHash) } }
    }

    /// Replaces the key's fields but its spend; false when there is none.
    func updateKey(_ key: KeyRecord) async throws -> Bool {
        guard try await self.store.updateKey(key) else { return false }
        self.cache.withLock { snapshot in
            var updated = key
            updated.spend = snapshot.keys[key.tokenHash]?.spend ?? key.spend
            snapshot.keys[key.tokenHash] = updated
        }
        return true
    }

    /// Gives the key with `hash` a new secret, keeping its alias, limits and spend; the old one stops working at
    /// once. Returns the new key (the only time it is seen) and the record; nil when there is no such key.
    func regenerate(hash: String, now: Date = Date()) async throws -> (key: String, record: KeyRecord)? {
        let secret = VirtualKey.generate()
        let newHash = VirtualKey.hash(secret)
        guard try await self.store.rekey(hash: hash, to: newHash, name: VirtualKey.displayName(secret), at: now) else { return nil }
        let record = self.cache.withLock { snapshot -> KeyRecord? in
            guard var record = snapshot.keys.removeValue(forKey: hash) else { return nil }
            record.tokenHash = newHash
            record.keyName = VirtualKey.displayName(secret)
            record.updatedAt = now
            snapshot.keys[newHash] = record
            // Spend not yet written follows the key to its new row.
            if let pending = snapshot.pending.keySpend.removeValue(forKey: hash) { snapshot.pending.keySpend[newHash] = pending }
            return record
        }
        return record.map { (secret, $0) }
    }

    /// Deletes the key with `hash`; false when there is none.
    func deleteKey(hash: String) async throws -> Bool {
        let deleted = try await self.store.deleteKey(hash: hash)
        self.cache.withLock { _ = $0.keys.removeValue(forKey: hash) }
        return deleted
    }

    // MARK: Teams

    func insertTeam(_ team: TeamRecord) async throws {
        try await self.store.insertTeam(team)
        self.cache.withLock { $0.teams[team.teamID] = team }
    }

    /// Replaces the team's fields but its spend; false when there is none.
    func updateTeam(_ team: TeamRecord) async throws -> Bool {
        guard try await self.store.updateTeam(team) else { return false }
        self.cache.withLock { snapshot in
            var updated = team
            updated.spend = snapshot.teams[team.teamID]?.spend ?? team.spend
            snapshot.teams[team.teamID] = updated
        }
        return true
    }

    /// Deletes the team; its keys stay, without a team. False when there is none.
    func deleteTeam(id: String) async throws -> Bool {
        guard try await self.store.deleteTeam(id: id) else { return false }
        self.cache.withLock { snapshot in
            snapshot.teams.removeValue(forKey: id)
            for (hash, key) in snapshot.keys where key.teamID == id { snapshot.keys[hash]?.teamID = nil }
        }
        return true
    }

    func team(id: String) -> TeamRecord? {
        self.cache.withLock { $0.teams[id] }
    }

    /// Every team, oldest first.
    func teams() -> [TeamRecord] {
        self.cache.withLock { $0.teams.values.sorted { ($0.createdAt, $0.teamID) < ($1.createdAt, $1.teamID) } }
    }

    // MARK: Spend

    /// A key as spend-log rows name it, from what a caller gave (the key, its hash or its `sk-...abcd` name):
    /// a live key by its hash prefix (so keys sharing a name are not mixed); a deleted one by the hash or name.
    func spendLogKey(_ asked: String) -> (hashPrefix: String, name: String) {
        if let record = self.key(asked) { return (String(record.tokenHash.prefix(12)), record.keyName) }
        let isHash = asked.count == 64 && asked.allSatisfy(\.isHexDigit)
        return isHash ? (String(asked.prefix(12)), "") : ("", asked)
    }

    /// The spend log, newest first (written rows only: call ``flush()`` first for the latest).
    func spendLogs(_ filter: SpendLogFilter = SpendLogFilter(), limit: Int = 1_000) async throws -> [SpendLogRow] {
        try await self.store.spendLogs(filter, limit: limit)
    }

    /// The spend log summed per day, key, team, user and model (written rows only, as ``spendLogs(_:limit:)``).
    func spendReport(_ filter: SpendReportFilter) async throws -> [SpendReportRow] {
        try await self.store.spendReport(filter)
    }

    /// Deletes spend-log rows older than `days` days (`switchboard.spend_log_retention_days`); returns how many.
    @discardableResult
    func pruneSpendLogs(olderThanDays days: Int, now: Date = Date()) async throws -> Int {
        try await self.store.deleteSpendLogs(before: now.addingTimeInterval(-Double(days) * 86_400))
    }

    /// Every budget with what is left of it, for `switchboard_budget_remaining_usd{scope,name}`: keys by alias
    /// (else `sk-...abcd`), teams by id (as `switchboard_spend_usd_total` labels them), and the gateway's.
    func budgetsRemaining() -> [(scope: String, name: String, remaining: Double)] {
        self.cache.withLock { snapshot in
            var budgets: [(scope: String, name: String, remaining: Double)] = []
            if let budget = snapshot.gateway.limits.maxBudget {
                budgets.append(("gateway", "gateway", budget - snapshot.gateway.spend))
            }
            for team in snapshot.teams.values {
                if let budget = team.limits.maxBudget { budgets.append(("team", team.teamID, budget - team.spend)) }
            }
            for key in snapshot.keys.values {
                if let budget = key.limits.maxBudget { budgets.append(("key", key.displayName, budget - key.spend)) }
            }
            return budgets
        }
    }
}

extension KeyDirectory {
    /// Makes the store's config-file teams and keys match `teams` and `keys` (at start and on every reload):
    /// new ones are added, changed ones updated (spend, and a budget period whose duration is unchanged, run
    /// on), and ones the file no longer names are deleted. Records made through the admin API are left alone;
    /// a declared one that clashes with one of them is an error.
    func syncDeclared(teams: [TeamRecord], keys: [KeyRecord], now: Date = Date()) async throws {
        for team in teams {
            guard let current = try await self.currentOrInserted(team) else { continue }
            guard current.source == .config else {
                throw GovernanceStoreConflict(description: "switchboard.teams: team \(team.teamID) was made through the admin API")
            }
            if let changed = Self.changed(team, from: current, now: now) { _ = try await self.updateTeam(changed) }
        }
        for key in keys {
            guard let current = try await self.currentOrInserted(key) else { continue }
            guard current.source == .config else {
                throw GovernanceStoreConflict(
                    description: "switchboard.virtual_keys: key \(key.displayName) was made through the admin API"
                )
            }
            if let changed = Self.changed(key, from: current, now: now) { _ = try await self.updateKey(changed) }
        }
        let declaredKeys = Set(keys.map(\.tokenHash))
        for key in self.keys() where key.source == .config && !declaredKeys.contains(key.tokenHash) {
            _ = try await self.deleteKey(hash: key.tokenHash)
        }
        let declaredTeams = Set(teams.map(\.teamID))
        for team in self.teams() where team.source == .config && !declaredTeams.contains(team.teamID) {
            _ = try await self.deleteTeam(id: team.teamID)
        }
    }

    /// The declared key's record as it stands, or nil when there was none and it is now inserted. A record
    /// another replica starting on the same database inserted a moment ago counts as standing, so replicas
    /// started together with one file agree instead of failing on a duplicate.
    private func currentOrInserted(_ key: KeyRecord) async throws -> KeyRecord? {
        if let current = self.key(key.tokenHash) { return current }
        do {
            try await self.insertKey(key)
            return nil
        } catch let conflict as GovernanceStoreConflict {
            guard let stored = try await self.store.key(hash: key.tokenHash) else { throw conflict }
            self.cache.withLock { $0.keys[stored.tokenHash] = stored }
            return stored
        }
    }

    private func currentOrInserted(_ team: TeamRecord) async throws -> TeamRecord? {
        if let current = self.team(id: team.teamID) { return current }
        do {
            try await self.insertTeam(team)
            return nil
        } catch let conflict as GovernanceStoreConflict {
            guard let stored = try await self.store.team(id: team.teamID) else { throw conflict }
            self.cache.withLock { $0.teams[stored.teamID] = stored }
            return stored
        }
    }

    /// `declared` as an update of `current`, or nil when it changes nothing: spend, creation time and, while
    /// the budget's duration stays the same, its period run on.
    private static func changed<Record: GovernedRecord>(_ declared: Record, from current: Record, now: Date) -> Record? {
        var record = declared
        record.spend = current.spend
        record.createdAt = current.createdAt
        record.updatedAt = current.updatedAt
        if declared.limits.budgetDuration == current.limits.budgetDuration {
            record.limits.budgetResetAt = current.limits.budgetResetAt
        }
        guard record != current else { return nil }
        record.updatedAt = now
        return record
    }
}

/// What keys and teams share: limits, spend, and when they were made and changed.
protocol GovernedRecord: Hashable {
    var limits: SpendLimits { get set }
    var spend: Double { get set }
    var createdAt: Date { get set }
    var updatedAt: Date { get set }
}

extension KeyRecord: GovernedRecord {}
extension TeamRecord: GovernedRecord {}
