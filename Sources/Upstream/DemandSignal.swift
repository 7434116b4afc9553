import Synchronization

/// Tells the body consumer's thread whether the loop thread needs to hear about its demand.
///
/// NIO's producer calls `produceMore` whenever demand comes back, including on a first `next()`
/// that no stop preceded, and `didTerminate` when the iterator goes, including after the transfer
/// ended. Waking the loop for those costs a system call on each side and a loop turn per request;
/// this says when it is needed: after a stop the loop acted on, and before the transfer has ended.
///
/// A stop decided while the consumer's demand comes back in the same moment must not strand the
/// transfer paused, so a yield is bracketed: demand seen during the yield overrides its stop. The
/// next yield then stops again, since the buffer is still full.
final class DemandSignal: Sendable {
    private enum State: UInt8, AtomicRepresentable {
        case flowing
        case yielding
        /// The loop will pause the transfer at its next write callback, or already has.
        case stopped
        /// Demand came back while a yield was being decided.
        case demandedWhileYielding
    }

    private let state = Atomic(State.flowing)
    /// Set by the loop thread before it finishes the body; after that, nothing needs cancelling.
    let hasEnded = Atomic(false)

    /// Loop thread: a chunk is about to be yielded.
    func beginYield() {
        self.state.store(.yielding, ordering: .sequentiallyConsistent)
    }

    /// Loop thread: the yield asked for more.
    func yieldContinued() {
        self.state.store(.flowing, ordering: .sequentiallyConsistent)
    }

    /// Loop thread: the yield asked to stop. Returns whether the stop holds, or demand came back meanwhile.
    func yieldStopped() -> Bool {
        if self.state.compareExchange(expected: .yielding, desired: .stopped, ordering: .sequentiallyConsistent).exchanged {
            return true
        }
        self.state.store(.flowing, ordering: .sequentiallyConsistent)  // demand came back meanwhile
        return false
    }

    /// Consumer thread: demand came back. Returns whether the loop must be told to resume.
    func needsResume() -> Bool {
        while true {
            switch self.state.load(ordering: .sequentiallyConsistent) {
            case .stopped:
                if self.state.compareExchange(expected: .stopped, desired: .flowing, ordering: .sequentiallyConsistent).exchanged {
                    return true
                }
            case .yielding:
                if self.state.compareExchange(expected: .yielding, desired: .demandedWhileYielding, ordering: .sequentiallyConsistent).exchanged {
                    return false
                }
            case .flowing, .demandedWhileYielding:
                return false
            }
        }
    }
}
