import Synchronization

/// Runs `operation`, or throws ``DeadlineExceeded`` once `limit` has passed: a call to a networked store must
/// not hold a request, a synchronization or a shutdown for as long as a dead server keeps it waiting.
///
/// The operation runs in a task of its own, cancelled at the deadline but not awaited: a task group would wait
/// for it, and a database client's call does not always end when cancelled (postgres-nio's, on a connection
/// the server dropped, was seen never to), which hung the replica that made it.
func withDeadline<Value: Sendable>(
    _ limit: Duration, what: String, _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let race = DeadlineRace<Value>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.begin(continuation)
            let work = Task {
                do {
                    race.finish(.success(try await operation()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                race.finish(.failure(DeadlineExceeded(what: what, limit: limit)))
            }
            race.attach(work: work, timer: timer)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The one answer of a ``withDeadline(_:what:_:)``: the operation's or the timer's, whichever comes first; the
/// other is cancelled.
private final class DeadlineRace<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    /// Keeps `continuation` for the answer; when the caller was cancelled before, answers at once.
    func begin(_ continuation: CheckedContinuation<Value, any Error>) {
        let cancelled = self.state.withLock { state in
            if !state.finished { state.continuation = continuation }
            return state.finished
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
    }

    func attach(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let finished = self.state.withLock { state in
            (state.work, state.timer) = (work, timer)
            return state.finished
        }
        if finished {
            work.cancel()
            timer.cancel()
        }
    }

    func finish(_ result: Result<Value, any Error>) {
        let (continuation, work, timer) = self.state.withLock { state -> (CheckedContinuation<Value, any Error>?, Task<Void, Never>?, Task<Void, Never>?) in
            guard !state.finished else { return (nil, nil, nil) }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        work?.cancel()
        timer?.cancel()
        continuation?.resume(with: result)
    }
}

/// An operation given to ``withDeadline(_:what:_:)`` did not finish in time.
struct DeadlineExceeded: Error, CustomStringConvertible {
    let what: String
    let limit: Duration
    var description: String { "\(self.what) took longer than \(self.limit)" }
}
