import Foundation

/// What the configuration says about virtual keys beyond where they live: the gateway's own budget
/// (`litellm_settings.max_budget`, `budget_duration`), how long the spend log keeps rows, and keys and teams
/// declared in the file for small set-ups (`switchboard.virtual_keys`, `switchboard.teams`).
public struct GovernanceSettings: Sendable {
    /// US dollars all requests together may spend per period; nil for no gateway budget.
    var maxBudget: Double?
    var budgetDuration: BudgetDuration?
    /// `switchboard.spend_log_retention_days`: older spend-log rows are deleted; nil keeps them all.
    public var spendLogRetentionDays: Int?
    /// `switchboard.state_dir`: where the default database (`switchboard.db`) goes; nil for the working directory.
    public var stateDirectory: String?
    /// `general_settings.on_store_failure`: what requests on virtual keys get while a shared store is down.
    public var onStoreFailure = StoreFailurePolicy.local
    /// `general_settings.database_connection_pool_limit`: connections each replica keeps to PostgreSQL at most.
    public var databasePoolSize = 10
    /// Teams and keys the file declares; each load makes the store's `config` records match them.
    var teams: [TeamRecord] = []
    var keys: [KeyRecord] = []

    public init() {}
}

/// Where the governance store is: one SQLite file, or a PostgreSQL database several replicas share.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresDatabaseURL)

    /// `sqlite:///path` or `postgresql://…`; with `plainPath`, anything else is an SQLite file's path (the
    /// command line's `--database`).
    public init(url: String, plainPath: Bool = false) throws(StoreLocationError) {
        do {
            if let postgres = try PostgresDatabaseURL(url) {
                self = .postgres(postgres)
                return
            }
        } catch {
            throw StoreLocationError(description: error.description)
        }
        let scheme = "sqlite://"
        if url.hasPrefix(scheme), url.count > scheme.count {
            self = .sqlite(path: String(url.dropFirst(scheme.count)))
        } else if plainPath, !url.contains("://") {
            self = .sqlite(path: url)
        } else {
            throw StoreLocationError(description: "expected sqlite:///path/to/switchboard.db or postgresql://user:password@host:port/database; got \"\(url)\"")
        }
    }

    /// The file's path, or the URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let url): url.redacted
        }
    }
}

/// What is wrong with a `database_url`.
public struct StoreLocationError: Error, CustomStringConvertible {
    public let description: String
}
