import NIOCore
import Synchronization

/// Whether the client at the other end of one HTTP connection is still there, and which request's task
/// to cancel when it goes.
///
/// Hummingbird lets a client half-close (it sets `allowRemoteHalfClosure`), so a client that hangs up
/// does not close the channel: only a later write would fail, seconds later (a stream's next ping) or
/// never (a non-streaming answer still being generated). ``ClientConnectionHandler`` sees the end of
/// input at once and tells this object, which cancels the request being served; cancellation then
/// removes the upstream transfer and ends the exchange as `client_disconnected`.
final class ClientConnection: Sendable {
    private enum State {
        case idle
        case serving(RequestTask)
        case hungUp
    }

    /// What the caller must do after a transition, outside the lock.
    enum Action {
        case none
        case cancel(RequestTask)
    }

    private let state = Mutex(State.idle)

    /// The client has gone (its input ended, or the channel closed). Cancels the request being served.
    func clientDidHangUp() {
        let action: Action = self.state.withLock { state in
            switch state {
            case .serving(let task):
                state = .hungUp
                return .cancel(task)
            case .idle, .hungUp:
                state = .hungUp
                return .none
            }
        }
        if case .cancel(let task) = action { task.cancel() }
    }

    /// A request starts being served by `task`. When the client has already gone, the task is cancelled
    /// at once. Call ``endServing()`` before `task` ends, always.
    func beginServing(_ task: RequestTask) {
        let action: Action = self.state.withLock { state in
            switch state {
            case .idle, .serving:
                state = .serving(task)
                return .none
            case .hungUp:
                return .cancel(task)
            }
        }
        if case .cancel(let task) = action { task.cancel() }
    }

    /// The request has been served (or failed): nothing to cancel any more.
    func endServing() {
        self.state.withLock { state in
            if case .serving = state { state = .idle }
        }
    }

    /// Whether the client has gone.
    var hasHungUp: Bool {
        self.state.withLock { state in
            if case .hungUp = state { true } else { false }
        }
    }
}

/// The task serving one request, to cancel when its client goes.
///
/// `@unchecked Sendable`, and an `UnsafeCurrentTask` kept beyond `withUnsafeCurrentTask`: safe because
/// ``ClientConnection`` cancels it only under its lock while in `.serving`, and the task leaves
/// `.serving` (``ClientConnection/endServing()``, under the same lock) before it can end. So `cancel()`
/// is never called on a task that has finished.
struct RequestTask: @unchecked Sendable {
    private let task: UnsafeCurrentTask

    /// The task running the caller; nil outside a task.
    static var current: RequestTask? {
        withUnsafeCurrentTask { task in task.map(RequestTask.init(task:)) }
    }

    private init(task: UnsafeCurrentTask) {
        self.task = task
    }

    func cancel() {
        self.task.cancel()
    }
}

/// The ``ClientConnection`` of every open channel, so that a request can find its own.
final class ClientConnections: Sendable {
    private let connections = Mutex<[ObjectIdentifier: ClientConnection]>([:])

    init() {}

    /// The connection state of `channel`; nil when the channel was not opened through the gateway's
    /// server (in-process router tests).
    func connection(for channel: any Channel) -> ClientConnection? {
        self.connections.withLock { $0[ObjectIdentifier(channel)] }
    }

    func register(_ connection: ClientConnection, for channel: any Channel) {
        self.connections.withLock { $0[ObjectIdentifier(channel)] = connection }
    }

    func remove(_ channel: any Channel) {
        _ = self.connections.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Open connections, for tests.
    var count: Int { self.connections.withLock { $0.count } }
}
