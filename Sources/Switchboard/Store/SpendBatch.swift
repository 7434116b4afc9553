import Foundation

/// What the gateway spent since its last write, written to the store in one transaction: budget periods
/// that restarted, spend added per key and team, and one spend-log row per finished request.
struct SpendBatch: Sendable {
    /// A budget period that ended: the scope's spend goes back to 0 and its next reset is `next`.
    struct Reset: Sendable, Hashable {
        enum Scope: Sendable, Hashable {
            case key(hash: String)
            case team(id: String)
            case gateway
        }

        let scope: Scope
        /// Seconds since the Unix epoch.
        let next: Double
    }

    /// Written with the batch by a shared store, so a batch retried after a lost answer is counted once.
    var id = UUID().uuidString
    var resets: [Reset] = []
    /// US dollars, by key hash.
    var keySpend: [String: Double] = [:]
    /// US dollars, by team id.
    var teamSpend: [String: Double] = [:]
    /// US dollars, counted against `litellm_settings.max_budget`.
    var gatewaySpend = 0.0
    var logRows: [SpendLogRow] = []

    var isEmpty: Bool {
        self.resets.isEmpty && self.keySpend.isEmpty && self.teamSpend.isEmpty && self.gatewaySpend == 0 && self.logRows.isEmpty
    }

    /// `later` appended: resets and rows in order, spend summed.
    mutating func merge(_ later: SpendBatch) {
        self.resets += later.resets
        self.keySpend.merge(later.keySpend, uniquingKeysWith: +)
        self.teamSpend.merge(later.teamSpend, uniquingKeysWith: +)
        self.gatewaySpend += later.gatewaySpend
        self.logRows += later.logRows
    }
}

/// Which spend-log rows to read; a nil field matches every row.
struct SpendLogFilter: Sendable {
    var requestID: String?
    var sessionID: String?
    var teamID: String?
    var userID: String?
    /// The key: the first 12 hex digits of its hash, and its `sk-...abcd` name, which alone matches rows
    /// written before rows had the former (or every row of that name when the prefix is empty).
    var key: (hashPrefix: String, name: String)?
}

/// One finished request in the audit log: who, what, how much, how it ended. Never content, never a key.
struct SpendLogRow: Sendable, Hashable {
    var requestID: String
    /// Seconds since the Unix epoch.
    var startTime: Double
    var endTime: Double
    var keyName: String?
    /// The first 12 hex digits of the key's hash: tells keys with the same `sk-...abcd` name apart, and
    /// reveals nothing of the key.
    var keyHashPrefix: String?
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

/// What `/global/spend/report` sums: the spend log's rows from `start` (inclusive) to `end` (exclusive),
/// optionally of one key (as ``SpendLogFilter/key``), team or user.
struct SpendReportFilter: Sendable {
    var start: Double
    var end: Double
    var key: (hashPrefix: String, name: String)?
    var teamID: String?
    var userID: String?
}

/// The spend log summed per UTC day, key, team, user and model group.
struct SpendReportRow: Sendable, Hashable {
    /// `YYYY-MM-DD`, UTC.
    var day: String
    var keyHashPrefix: String?
    var keyName: String?
    var keyAlias: String?
    var teamID: String?
    var userID: String?
    var model: String?
    var spend: Double
    /// Input tokens, cached ones included.
    var inputTokens: Int
    var outputTokens: Int
    var requests: Int
}
