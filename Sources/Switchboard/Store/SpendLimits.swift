import Foundation

/// The limits a key, a team or the gateway has: a budget that may reset on a schedule, and rates. A key's
/// limit left unset is its team's (``inheriting(from:)``).
struct SpendLimits: Sendable, Hashable {
    /// US dollars per budget period; nil for no budget.
    var maxBudget: Double?
    var budgetDuration: BudgetDuration?
    /// When the current period ends and `spend` goes back to 0; nil without a duration.
    var budgetResetAt: Date?
    var rpmLimit: Int?
    var tpmLimit: Int?
    var maxParallelRequests: Int?

    /// These limits with every unset one taken from `team`'s. The budget is not inherited: a team's budget
    /// is its own, checked separately, as LiteLLM does.
    func inheriting(from team: SpendLimits) -> SpendLimits {
        var limits = self
        limits.rpmLimit = limits.rpmLimit ?? team.rpmLimit
        limits.tpmLimit = limits.tpmLimit ?? team.tpmLimit
        limits.maxParallelRequests = limits.maxParallelRequests ?? team.maxParallelRequests
        return limits
    }
}
