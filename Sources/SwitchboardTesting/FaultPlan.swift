import Foundation

/// How often a fake upstream spoils its answers, and how: a seeded plan, so that in a soak the faults
/// are chosen by the server rather than asked for by the client, and the same seed gives the same
/// sequence of faults run after run.
///
/// A plan is written as a spec, comma-separated `key=value` entries:
///
///     429=0.08,503=0.06,500=0.04,reset_before_head=0.03,reset_mid_stream=0.03,truncated=0.03,
///     garbage=0.03,stall=0.02,slow_head=0.02,seed=7,slow_ms=100,stall_ms=2000
///
/// A fault name takes the probability that an answer gets that fault (together at most 1; the rest
/// are clean). `seed`, `slow_ms`, `stall_ms` and `retry_ms` set the plan's parameters (see
/// ``Parameters``). The order of entries does not matter: the same entries give the same plan.
public struct FaultPlan: Sendable, Equatable, CustomStringConvertible {
    /// One way to spoil an answer. Its raw value is its name in a spec and in the fake's stats.
    public enum Fault: String, CaseIterable, Sendable, Comparable {
        /// HTTP 429 `RESOURCE_EXHAUSTED` with a `RetryInfo` detail of ``Parameters/retryDelay``.
        case rateLimited = "429"
        /// HTTP 503 `UNAVAILABLE`.
        case unavailable = "503"
        /// HTTP 500 `INTERNAL`.
        case internalError = "500"
        /// The connection is reset once the request is read, before any byte of an answer.
        case resetBeforeHead = "reset_before_head"
        /// The whole answer, only after ``Parameters/slowHead``: a delay, not a failure.
        case slowHead = "slow_head"
        /// Part of the answer, then silence for ``Parameters/stallLimit``, then a reset.
        case stall
        /// Part of the answer, then a reset.
        case resetMidStream = "reset_mid_stream"
        /// Part of the answer, then a clean end: a stream without its finishing chunk, a cut JSON body.
        case truncated
        /// Part of the answer, then a `data:` line that is not JSON, then a clean end (a JSON answer's
        /// body is not JSON at all).
        case garbage
        /// A stream whose first `data:` line is not JSON, before any content; otherwise as `garbage`.
        case garbageFirst = "garbage_first"

        /// Whether, on a streamed answer, the fault comes after the first content chunk went out, so a
        /// gateway that forwards content as it arrives can no longer retry it. On a JSON answer no
        /// fault is mid-stream: a gateway reads the whole body before its client sees a byte.
        public var isMidStream: Bool {
            switch self {
            case .stall, .resetMidStream, .truncated, .garbage: true
            case .rateLimited, .unavailable, .internalError, .resetBeforeHead, .slowHead, .garbageFirst: false
            }
        }

        /// Whether the answer fails; `slow_head` delivers it whole, late.
        public var isFailure: Bool { self != .slowHead }

        public static func < (lhs: Fault, rhs: Fault) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// How the faults behave; each is bounded so that a fake never holds a connection for long.
    public struct Parameters: Sendable, Equatable {
        /// The first of the random numbers that choose the faults (`seed`).
        public var seed: UInt64 = 0
        /// How long a `slow_head` answer waits before its head (`slow_ms`).
        public var slowHead: Duration = .milliseconds(200)
        /// How long a `stall` stays silent before the fake gives up and resets (`stall_ms`).
        public var stallLimit: Duration = .seconds(3)
        /// The `retryDelay` a 429 carries in its `RetryInfo` (`retry_ms`).
        public var retryDelay: Duration = .seconds(1)

        public init() {}
    }

    /// A spec the plan cannot be read from, with what is wrong in it.
    public struct SpecError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Each fault with a non-zero probability, in ``Fault`` order.
    public let probabilities: [Fault: Double]
    public var parameters: Parameters

    /// A plan with these probabilities; they must lie in 0...1 and add up to at most 1.
    public init(_ probabilities: [Fault: Double], parameters: Parameters = Parameters()) throws(SpecError) {
        for (fault, probability) in probabilities where !(0...1).contains(probability) {
            throw SpecError(description: "\(fault.rawValue)=\(probability): expected a probability between 0 and 1")
        }
        let total = probabilities.values.reduce(0, +)
        // A little slack for decimal fractions that add up to 1 in writing but not in binary.
        guard total <= 1 + 1e-9 else {
            throw SpecError(description: "the fault probabilities add up to \(total), more than 1")
        }
        self.probabilities = probabilities.filter { $0.value > 0 }
        self.parameters = parameters
    }

    /// The plan a spec describes (see the type's documentation); `seed` applies unless the spec
    /// gives its own. An empty spec, or `none`, is a plan without faults.
    public init(spec: String, seed: UInt64 = 0) throws(SpecError) {
        var probabilities: [Fault: Double] = [:]
        var parameters = Parameters()
        parameters.seed = seed
        var seen: Set<String> = []
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        let entries = trimmed == "none" ? [] : trimmed.split(separator: ",", omittingEmptySubsequences: false)
        for entry in entries where !(entries.count == 1 && entry.isEmpty) {
            let pair = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = pair[0].trimmingCharacters(in: .whitespaces)
            guard pair.count == 2, !key.isEmpty else {
                throw SpecError(description: "\"\(entry)\": expected NAME=VALUE")
            }
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            guard seen.insert(key).inserted else { throw SpecError(description: "\"\(key)\" is given twice") }
            switch key {
            case "seed":
                guard let number = UInt64(value) else {
                    throw SpecError(description: "seed=\(value): expected a whole number from 0 to \(UInt64.max)")
                }
                parameters.seed = number
            case "slow_ms": parameters.slowHead = try Self.milliseconds(key, value)
            case "stall_ms": parameters.stallLimit = try Self.milliseconds(key, value)
            case "retry_ms": parameters.retryDelay = try Self.milliseconds(key, value)
            default:
                guard let fault = Fault(rawValue: key) else {
                    let known = (Fault.allCases.map(\.rawValue) + ["seed", "slow_ms", "stall_ms", "retry_ms"])
                    throw SpecError(
                        description: "unknown name \"\(key)\"; known: \(known.joined(separator: ", "))"
                    )
                }
                guard let probability = Double(value), (0...1).contains(probability) else {
                    throw SpecError(description: "\(key)=\(value): expected a probability between 0 and 1")
                }
                probabilities[fault] = probability
            }
        }
        try self.init(probabilities, parameters: parameters)
    }

    /// Parameters are whole milliseconds up to ten minutes: long enough for any test, short enough
    /// that a mistyped value cannot hold a connection for hours.
    private static func milliseconds(_ key: String, _ value: String) throws(SpecError) -> Duration {
        guard let number = Int64(value), (0...600_000).contains(number) else {
            throw SpecError(description: "\(key)=\(value): expected whole milliseconds from 0 to 600000")
        }
        return .milliseconds(number)
    }

    /// The plan as a spec, entries in a fixed order: parsing it gives the same plan.
    public var description: String {
        let faults = self.probabilities.keys.sorted().map { "\($0.rawValue)=\(self.probabilities[$0]!)" }
        let parameters = self.parameters
        let settings = [
            "seed=\(parameters.seed)",
            "slow_ms=\(Self.wholeMilliseconds(parameters.slowHead))",
            "stall_ms=\(Self.wholeMilliseconds(parameters.stallLimit))",
            "retry_ms=\(Self.wholeMilliseconds(parameters.retryDelay))",
        ]
        return (faults + settings).joined(separator: ",")
    }

    static func wholeMilliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// A fresh sequence of draws, starting from the plan's seed.
    public func sampler() -> Sampler {
        Sampler(plan: self)
    }

    /// Draws the fault (or none) for each answer in turn. Deterministic: the n-th draw of two samplers
    /// of one plan is the same, whatever the timing; under concurrency, which request makes the n-th
    /// draw is what varies.
    public struct Sampler: Sendable {
        /// Cumulative probabilities in ``Fault`` order, so one uniform number picks the fault.
        private let thresholds: [(fault: Fault, upTo: Double)]
        private var random: SplitMix64

        fileprivate init(plan: FaultPlan) {
            var total = 0.0
            self.thresholds = plan.probabilities.keys.sorted().map { fault in
                total += plan.probabilities[fault]!
                return (fault, total)
            }
            self.random = SplitMix64(seed: plan.parameters.seed)
        }

        /// The next answer's fault, or nil for a clean answer. Always consumes one random number, so
        /// the sequence of draws does not depend on which faults were drawn before.
        public mutating func next() -> Fault? {
            // The top 53 bits, as a Double in [0, 1) with every value equally likely.
            let uniform = Double(self.random.next() >> 11) * 0x1p-53
            return self.thresholds.first { uniform < $0.upTo }?.fault
        }
    }
}
