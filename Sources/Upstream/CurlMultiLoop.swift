import CCurl
import Foundation
import Synchronization

/// Counters the loop and its transfers share; read from any thread.
final class TransferStatistics: Sendable {
    /// How many times a transfer paused because its consumer fell behind.
    let pauses = Atomic(0)
    /// How many commands other threads handed to the loop, each waking it.
    let commands = Atomic(0)
    /// How many times the loop went round: commands, socket activity, timeouts and heartbeats.
    let turns = Atomic(0)
}

/// One thread driving one curl multi handle with `curl_multi_poll`.
///
/// Other threads never touch curl: they append commands to a locked queue and wake the loop with
/// `curl_multi_wakeup`, the one multi function curl allows from any thread. All transfers share the
/// multi handle's connection cache, so requests to the same host reuse connections (and multiplex
/// over HTTP/2 when the server offers it).
///
/// Shutdown: the loop cleans up the multi handle while holding the queue's lock, and marks the queue
/// stopped in the same breath; other threads wake the loop only while holding that lock and only
/// before it is stopped. So no wake-up can reach a cleaned-up handle.

final class CurlMultiLoop: @unchecked Sendable {
    // `@unchecked`: `multi` and `active` are touched only on the loop thread (curl's rule for a
    // multi handle); the command queue, the one shared piece, is behind a Mutex.

    enum Command {
        /// Start `transfer`; `caller` waits for its head.
        case add(CurlTransfer, CurlTransfer.Caller)
        case resume(CurlTransfer)
        case cancel(CurlTransfer)
    }

    private struct Queue {
        var commands: [Command] = []
        var isShuttingDown = false
        /// Everyone waiting in `shutdown()`: it may be called more than once, concurrently.
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        /// The multi handle is cleaned up: nobody may wake it any more.
        var hasStopped = false
    }

    private let configuration: UpstreamClient.Configuration
    private let multi: UnsafeMutableRawPointer
    private let queue = Mutex(Queue())
    private var active: [ObjectIdentifier: CurlTransfer] = [:] {
        didSet { self.activeTransfers.store(self.active.count, ordering: .relaxed) }
    }
    /// How many transfers curl is running now; readable from any thread.
    let activeTransfers = Atomic(0)
    let statistics = TransferStatistics()

    init(configuration: UpstreamClient.Configuration) {
        UpstreamClient.initializeCurlOnce
        self.configuration = configuration
        self.multi = curl_multi_init()!
        ccurl_multi_setopt_long(self.multi, CURLMOPT_MAXCONNECTS, Int(configuration.maximumCachedConnections))
        let thread = Thread { [self] in self.run() }
        thread.name = "switchboard-curl"
        thread.start()
    }

    /// Hands a command to the loop thread. After shutdown, an added transfer fails at once.
    func submit(_ command: Command) {
        // The wake-up happens under the lock: the loop cannot clean up the handle in between. Only the
        // command that finds the queue empty wakes the loop; it takes the whole queue when it wakes.
        let accepted = self.queue.withLock { queue in
            guard !queue.hasStopped else { return false }
            if queue.commands.isEmpty { curl_multi_wakeup(self.multi) }
            queue.commands.append(command)
            return true
        }
        if accepted {
            self.statistics.commands.add(1, ordering: .relaxed)
        } else if case .add(let transfer, let caller) = command {
            // The loop is gone and never saw this transfer: nobody else touches it.
            transfer.reject(caller, Self.shutDownError)
        }
    }

    /// Stops the loop: transfers still running fail with ``UpstreamError/Kind/shutDown``. Returns once
    /// the loop has stopped, however many callers ask.
    func shutdown() async {
        await withCheckedContinuation { continuation in
            let hasStopped = self.queue.withLock { queue in
                guard !queue.hasStopped else { return true }
                queue.isShuttingDown = true
                queue.stopWaiters.append(continuation)
                curl_multi_wakeup(self.multi)
                return false
            }
            if hasStopped { continuation.resume() }
        }
    }

    private static let shutDownError = UpstreamError(kind: .shutDown, message: "the upstream client has shut down")

    // MARK: - Loop thread

    private func run() {
        var running: Int32 = 0
        while true {
            let (commands, isShuttingDown) = self.queue.withLock { queue in
                defer { queue.commands.removeAll(keepingCapacity: true) }
                return (queue.commands, queue.isShuttingDown)
            }
            for command in commands { self.execute(command) }
            if isShuttingDown { break }

            curl_multi_perform(self.multi, &running)
            self.collectFinishedTransfers()
            let now = ContinuousClock.now
            for transfer in self.active.values {
                if transfer.isIdle(at: now) {
                    let seconds = Double(transfer.idleTimeout.milliseconds) / 1000
                    let error = UpstreamError(kind: .timeout, message: "no data from upstream for \(seconds) s")
                    self.end(transfer) { $0.finish(error) }
                } else {
                    transfer.beatIfSilent(at: now)
                }
            }
            curl_multi_poll(self.multi, nil, 0, self.pollTimeoutMilliseconds(now: now), nil)
            self.statistics.turns.add(1, ordering: .relaxed)
        }

        for transfer in self.active.values {
            let error = UpstreamError(kind: .shutDown, message: "the upstream client shut down mid-transfer")
            self.end(transfer) { $0.finish(error) }
        }
        let (raced, waiters) = self.queue.withLock { queue in
            curl_multi_cleanup(self.multi)
            queue.hasStopped = true
            defer {
                queue.commands = []
                queue.stopWaiters = []
            }
            return (queue.commands, queue.stopWaiters)
        }
        // Commands that raced with shutdown, handled outside the lock (a body's end may submit again):
        // fail their callers rather than leave them waiting.
        for case .add(let transfer, let caller) in raced {
            transfer.reject(caller, Self.shutDownError)
        }
        for waiter in waiters { waiter.resume() }
    }

    private func execute(_ command: Command) {
        switch command {
        case .add(let transfer, let caller):
            guard let easy = transfer.start(caller, configuration: self.configuration, statistics: self.statistics)
            else { return }
            self.active[ObjectIdentifier(transfer)] = transfer
            curl_multi_add_handle(self.multi, easy)
        case .resume(let transfer):
            guard self.active[ObjectIdentifier(transfer)] != nil, transfer.consumerWantsMore() else { return }
            // May call the write callback before returning; it runs on this thread, so no lock is held.
            curl_easy_pause(transfer.easy, CURLPAUSE_CONT)
        case .cancel(let transfer):
            let error = UpstreamError(kind: .cancelled, message: "the response was no longer wanted")
            if self.active[ObjectIdentifier(transfer)] != nil {
                self.end(transfer) { $0.finish(error) }
            } else {
                // Not started yet (the cancel overtook its add, which then starts nothing), or already ended.
                transfer.finish(error)
            }
        }
    }

    private func collectFinishedTransfers() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(self.multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            var userdata: UnsafeMutableRawPointer?
            ccurl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &userdata)
            guard let userdata else { continue }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            let code = message.pointee.data.result
            self.end(transfer) { $0.complete(with: code) }
        }
    }

    /// Takes `transfer` out of curl and the active set, then lets `ending` tell its caller, then frees the
    /// handle: in that order, so anyone who sees the transfer end also sees it gone from the count, and
    /// `ending` can still read the handle's info.
    private func end(_ transfer: CurlTransfer, _ ending: (CurlTransfer) -> Void) {
        self.active.removeValue(forKey: ObjectIdentifier(transfer))
        if let easy = transfer.easy {
            curl_multi_remove_handle(self.multi, easy)
        }
        ending(transfer)
        transfer.releaseHandle()
    }

    /// Long enough to idle cheaply, short enough to notice the next idle timeout or heartbeat on time.
    private func pollTimeoutMilliseconds(now: ContinuousClock.Instant) -> Int32 {
        var timeout = 1000
        for transfer in self.active.values {
            guard let deadline = transfer.nextDeadline() else { continue }
            timeout = min(timeout, max((deadline - now).milliseconds + 1, 0))
        }
        return Int32(timeout)
    }
}
