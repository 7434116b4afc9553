import Foundation

/// A virtual key as the store keeps it (LiteLLM's `/key/*` fields), without the key itself.
struct KeyRecord: Sendable, Hashable {
    /// ``VirtualKey/hash(_:)`` of the key: what requests are matched by.
    var tokenHash: String
    /// ``VirtualKey/displayName(_:)``: `sk-...abcd`.
    var keyName: String
    var alias: String?
    /// Free text: who the key is for.
    var userID: String?
    var teamID: String?
    /// Model names and wildcards the key may use; empty for its team's, or all.
    var models: [String] = []
    var limits = SpendLimits()
    /// US dollars spent in the current budget period.
    var spend = 0.0
    var expires: Date?
    var blocked = false
    var metadata: JSONValue = .object([:])
    var source = RecordSource.api
    var createdAt: Date
    var updatedAt: Date

    /// What logs, metrics and messages call the key: its alias, else its `sk-...abcd` name.
    var displayName: String { self.alias ?? self.keyName }
}
