import Foundation
import Synchronization

/// The virtual keys and teams the gateway answers to, cached from the ``GovernanceStore``: a request's key
/// is checked here, never in the database. Every change made through the directory goes to the store and
/// the cache together, so the next request sees it.
public final class KeyDirectory: ExchangeObserver {
    private let store: any GovernanceStore
    private let cache: Mutex<Snapshot>
    private let limiter = UsageLimiter()

    private struct Snapshot {
        var keys: [String: KeyRecord] = [:]
        var teams: [String: TeamRecord] = [:]
    }

    /// The directory over the SQLite database at `path`, created and migrated when needed.
    public convenience init(databasePath: String) throws {
        try self.init(store: SQLiteGovernanceStore(path: databasePath))
    }

    init(store: any GovernanceStore) throws {
        self.store = store
        var snapshot = Snapshot()
        for key in try store.keys() { snapshot.keys[key.tokenHash] = key }
        for team in try store.teams() { snapshot.teams[team.teamID] = team }
        self.cache = Mutex(snapshot)
    }

    /// Who `presented` is; a 401 naming why when it is no usable key. The reasons are distinct so a user can
    /// act on them, and none reveals anything about other keys.
    func authenticate(_ presented: String, now: Date = Date()) throws(AnthropicError) -> KeyIdentity {
        let hash = VirtualKey.hash(presented)
        let found = self.cache.withLock { snapshot in
            snapshot.keys[hash].map { ($0, $0.teamID.flatMap { snapshot.teams[$0] }) }
        }
        guard let (key, team) = found else { throw AnthropicError.authentication("invalid API key") }
        if let expires = key.expires, expires <= now {
            throw AnthropicError.authentication("API key \(key.alias ?? key.keyName) expired at \(Self.timestamp(expires))")
        }
        if key.blocked { throw AnthropicError.authentication("API key \(key.alias ?? key.keyName) is blocked") }
        if team?.blocked == true {
            throw AnthropicError.authentication("the team of API key \(key.alias ?? key.keyName) (\(team!.teamID)) is blocked")
        }
        // A key without its own model list may use its team's.
        let models = key.models.isEmpty ? (team?.models ?? []) : key.models
        var scopes = [
            LimitedScope(
                scope: .init(kind: .key, id: key.tokenHash, label: key.alias ?? key.keyName),
                limits: key.limits.inheriting(from: team?.limits ?? SpendLimits())
            )
        ]
        if let team {
            scopes.append(LimitedScope(scope: .init(kind: .team, id: team.teamID, label: team.alias ?? team.teamID), limits: team.limits))
        }
        return KeyIdentity(
            keyName: key.keyName, alias: key.alias, teamID: key.teamID, userID: key.userID, allowedModels: models, scopes: scopes
        )
    }

    /// Admits a request on `identity` under its key's and team's rate limits, or throws their 429.
    func admit(_ identity: KeyIdentity, now: Date = Date()) throws(AnthropicError) {
        try self.limiter.admit(identity.scopes.map { ($0.scope, $0.limits) }, now: now)
    }

    /// A request on a virtual key ended: its slot is freed and its tokens counted.
    public func exchangeDidFinish(_ record: ExchangeRecord) {
        guard let identity = record.virtualKey else { return }
        let usage = record.usage
        let tokens = usage.inputTokens + usage.outputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens
        self.limiter.release(identity.scopes.map(\.scope), tokens: tokens, now: Date())
    }

    // MARK: - Administration

    /// Makes a key; returns it (the only time it is seen) with its record.
    func generate(_ template: KeyRecord) throws -> (key: String, record: KeyRecord) {
        let secret = VirtualKey.generate()
        var record = template
        record.tokenHash = VirtualKey.hash(secret)
        record.keyName = VirtualKey.displayName(secret)
        try self.store.insertKey(record)
        self.cache.withLock { $0.keys[record.tokenHash] = record }
        return (secret, record)
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

    /// Deletes the key with `hash`; false when there is none.
    func deleteKey(hash: String) throws -> Bool {
        let deleted = try self.store.deleteKey(hash: hash)
        self.cache.withLock { _ = $0.keys.removeValue(forKey: hash) }
        return deleted
    }

    private static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}

/// A scope a request is counted in, with the limits it has there.
struct LimitedScope: Sendable {
    let scope: UsageLimiter.Scope
    let limits: SpendLimits
}

/// What a virtual key lets a request do, as the pipeline needs it (never the key itself).
public struct KeyIdentity: Sendable {
    /// `sk-...abcd`.
    public let keyName: String
    public let alias: String?
    public let teamID: String?
    public let userID: String?
    /// Model names and wildcards the key may use; empty for all.
    public let allowedModels: [String]
    /// The key's and its team's rate limits, which admitted the request.
    let scopes: [LimitedScope]

    /// Whether the key may ask for `model`, the name the client sent.
    func allows(model: String) -> Bool {
        self.allowedModels.isEmpty || self.allowedModels.contains { ModelPattern($0).match(model) != nil }
    }
}
