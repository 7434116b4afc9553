import Foundation
import Synchronization

/// Requests and tokens per minute and requests in flight, per key and per team, counted in memory (exact on
/// one node). A request is admitted before it is routed and released when its exchange finishes, however it
/// ends; its tokens count toward the minute they finished in.
final class UsageLimiter: Sendable {
    /// One scope's counters: the current minute's requests and tokens, and those in flight.
    private struct Window {
        var minute: Int = 0
        var requests = 0
        var tokens = 0
        var inFlight = 0

        mutating func roll(to minute: Int) {
            guard minute != self.minute else { return }
            self.minute = minute
            self.requests = 0
            self.tokens = 0
        }
    }

    /// A scope the limits apply to: a key (by hash) or a team.
    struct Scope: Hashable, Sendable {
        enum Kind: String, Sendable { case key, team }
        let kind: Kind
        let id: String
        /// How messages name it: the key's alias or name, the team's id.
        let label: String
    }

    private let windows = Mutex<[Scope: Window]>([:])

    /// Admits a request under every scope's limits, or throws the 429 of the first limit it would break, with
    /// `retry-after` and Anthropic's rate-limit headers so Claude Code backs off as it does from Anthropic.
    func admit(_ scopes: [(Scope, SpendLimits)], now: Date) throws(KeyRefusal) {
        let minute = Int(now.timeIntervalSince1970 / 60)
        let refusal: KeyRefusal? = self.windows.withLock { windows in
            for (scope, limits) in scopes {
                var window = windows[scope, default: Window()]
                window.roll(to: minute)
                windows[scope] = window
                if let most = limits.maxParallelRequests, window.inFlight >= most {
                    return Self.refusal(scope, limits, by: "parallel", inFlight: window.inFlight, now: now)
                }
                if let most = limits.rpmLimit, window.requests >= most {
                    return Self.refusal(scope, limits, by: "rpm", inFlight: window.inFlight, now: now)
                }
                if let most = limits.tpmLimit, window.tokens >= most {
                    return Self.refusal(scope, limits, by: "tpm", inFlight: window.inFlight, now: now)
                }
            }
            for (scope, _) in scopes {
                windows[scope]!.requests += 1
                windows[scope]!.inFlight += 1
            }
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Ends an admitted request: frees its slot and counts its tokens in the minute it finished.
    func release(_ scopes: [Scope], tokens: Int, now: Date) {
        let minute = Int(now.timeIntervalSince1970 / 60)
        self.windows.withLock { windows in
            for scope in scopes {
                var window = windows[scope, default: Window()]
                window.inFlight = max(0, window.inFlight - 1)
                window.roll(to: minute)
                window.tokens += tokens
                windows[scope] = window
            }
        }
    }

    /// The 429 of the limit (`parallel`, `rpm`, `tpm`) of `limits` that refused a request in `scope`, which had
    /// `inFlight` requests running: for a rate, when the minute ends, in `retry-after` and Anthropic's headers;
    /// for slots, a second. The shared counters (``ReplicatedLimiter``) refuse with the same answer.
    static func refusal(_ scope: Scope, _ limits: SpendLimits, by limit: String, inFlight: Int, now: Date) -> KeyRefusal {
        let minute = Int(now.timeIntervalSince1970 / 60)
        let reset = Date(timeIntervalSince1970: TimeInterval((minute + 1) * 60))
        let owner = "\(scope.kind.rawValue) \(scope.label)"
        var headers: [String: String]
        let message: String
        switch limit {
        case "parallel":
            message = "\(owner) has \(inFlight) requests in flight, its max_parallel_requests"
            headers = ["retry-after": "1"]
        case "rpm":
            let most = limits.rpmLimit ?? 0
            message = "\(owner) reached its rpm_limit of \(most) requests a minute"
            headers = Self.headers("requests", limit: most, remaining: 0, reset: reset)
        default:
            let most = limits.tpmLimit ?? 0
            message = "\(owner) reached its tpm_limit of \(most) tokens a minute"
            headers = Self.headers("tokens", limit: most, remaining: 0, reset: reset)
        }
        if limit != "parallel" { headers["retry-after"] = String(Self.seconds(until: reset, from: now)) }
        let error = AnthropicError(status: 429, type: "rate_limit_error", message: message, headers: headers)
        return KeyRefusal(kind: .limit(scope: scope.kind.rawValue, kind: limit), error: error)
    }

    /// Anthropic's `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`.
    private static func headers(_ kind: String, limit: Int, remaining: Int, reset: Date) -> [String: String] {
        [
            "anthropic-ratelimit-\(kind)-limit": String(limit),
            "anthropic-ratelimit-\(kind)-remaining": String(remaining),
            "anthropic-ratelimit-\(kind)-reset": UTCTime.timestamp(reset),
        ]
    }

    private static func seconds(until reset: Date, from now: Date) -> Int {
        max(1, Int(reset.timeIntervalSince(now).rounded(.up)))
    }
}
