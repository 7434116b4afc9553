/// What the gateway spent since its last write, written to the store in one transaction: budget periods
/// that restarted, spend added per key and team, and one spend-log row per finished request.
struct SpendBatch: Sendable {
    /// A budget period that ended: the scope's spend goes back to 0 and its next reset is `next`.
    struct Reset: Sendable, Hashable {
        enum Scope: Sendable, Hashable {
            case key(hash: String)
            case team(id: String)
        }

        let scope: Scope
        /// Seconds since the Unix epoch.
        let next: Double
    }

    var resets: [Reset] = []
    /// US dollars, by key hash.
    var keySpend: [String: Double] = [:]
    /// US dollars, by team id.
    var teamSpend: [String: Double] = [:]
    var logRows: [SpendLogRow] = []

    var isEmpty: Bool { self.resets.isEmpty && self.keySpend.isEmpty && self.teamSpend.isEmpty && self.logRows.isEmpty }

    /// `later` appended: resets and rows in order, spend summed.
    mutating func merge(_ later: SpendBatch) {
        self.resets += later.resets
        self.keySpend.merge(later.keySpend, uniquingKeysWith: +)
        self.teamSpend.merge(later.teamSpend, uniquingKeysWith: +)
        self.logRows += later.logRows
    }
}

/// Which spend-log rows to read; a nil field matches every row.
struct SpendLogFilter: Sendable {
    var requestID: String?
    var sessionID: String?
    /// The key's `sk-...abcd` name.
    var keyName: String?
    var teamID: String?
    var userID: String?
}

/// One finished request in the audit log: who, what, how much, how it ended. Never content, never a key.
struct SpendLogRow: Sendable, Hashable {
    var requestID: String
    /// Seconds since the Unix epoch.
    var startTime: Double
    var endTime: Double
    var keyName: String?
    var keyAlias: String?
    var teamID: String?
    var userID: String?
    var modelGroup: String?
    var deployment: String?
    var provider: String?
    var model: String?
    var inputTokens = 0
    var outputTokens = 0
    var cacheReadTokens = 0
    var cacheWriteTokens = 0
    var thinkingTokens = 0
    var spend = 0.0
    var status: Int
    var errorType: String?
    var sessionID: String?
    var durationMS: Double
    var attempts: Int
}
