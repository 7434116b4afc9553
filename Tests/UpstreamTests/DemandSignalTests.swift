import Testing

@testable import Upstream

@Suite("DemandSignal: when the consumer's demand must wake the loop")
struct DemandSignalTests {
    @Test("demand while the transfer flows needs no resume")
    func flowingDemandIsFree() {
        let signal = DemandSignal()
        #expect(!signal.needsResume())
        signal.beginYield()
        signal.yieldContinued()
        #expect(!signal.needsResume())
    }

    @Test("after a stop, the first demand resumes the transfer, and only the first")
    func demandAfterStopResumesOnce() {
        let signal = DemandSignal()
        signal.beginYield()
        #expect(signal.yieldStopped())
        #expect(signal.needsResume())
        #expect(!signal.needsResume())
    }

    @Test("demand arriving while a stop is being decided overrides it, so the transfer is never stranded")
    func demandDuringTheYieldWins() {
        let signal = DemandSignal()
        signal.beginYield()
        #expect(!signal.needsResume())  // the loop has not stopped: nothing to resume
        #expect(!signal.yieldStopped())  // so it must not stop either
        #expect(!signal.needsResume())
        // The next full buffer stops it for real.
        signal.beginYield()
        #expect(signal.yieldStopped())
        #expect(signal.needsResume())
    }
}
