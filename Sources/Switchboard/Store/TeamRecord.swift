import Foundation

/// A team as the store keeps it (LiteLLM's `/team/*` fields).
struct TeamRecord: Sendable, Hashable {
    var teamID: String
    var alias: String?
    /// Model names and wildcards the team's keys may use; empty for all.
    var models: [String] = []
    var limits = SpendLimits()
    /// US dollars spent in the current budget period.
    var spend = 0.0
    var blocked = false
    var metadata: JSONValue = .object([:])
    var source = RecordSource.api
    var createdAt: Date
    var updatedAt: Date
}
