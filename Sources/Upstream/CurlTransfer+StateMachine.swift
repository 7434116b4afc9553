extension CurlTransfer {
    /// The caller waiting for a response head, and the body it will read once the head comes.
    ///
    /// Made on the caller's thread and handed to the loop inside the `add` command, so the transfer
    /// holds it only while it waits for the head: the body's producer keeps a delegate that points
    /// back at the transfer, and a transfer that kept the body past its end would never be freed.
    struct Caller {
        let continuation: CheckedContinuation<UpstreamResponse, any Error>
        let body: UpstreamBody
        let source: UpstreamBody.Producer.Source

        init(continuation: CheckedContinuation<UpstreamResponse, any Error>, delegate: CurlTransferDelegate) {
            let made = UpstreamBody.Producer.makeSequence(
                backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8),
                finishOnDeinit: false,
                delegate: delegate
            )
            self.continuation = continuation
            self.body = UpstreamBody(producer: made.sequence)
            self.source = made.source
        }

        /// Tells the caller the transfer failed before its head; the body, never handed out, goes with it.
        func fail(_ error: UpstreamError) {
            self.source.finish(error)
            self.continuation.resume(throwing: error)
        }
    }

    /// Where a transfer is in its life. The loop thread alone drives it; each transition returns what
    /// the transfer must then do. Every way to ``State/finished`` gives up the caller and the body's
    /// source, so nothing the transfer holds can keep it alive once curl and the loop let go of it.
    struct StateMachine {
        enum State {
            /// Made, not yet handed to curl.
            case idle
            /// In curl; the caller waits for the head.
            case waitingForHead(Caller)
            /// The head went to the caller; bytes go to `source`.
            case streaming(UpstreamBody.Producer.Source, Flow)
            /// Ended: completed, failed, cancelled, timed out or shut down. Holds nothing.
            case finished
        }

        /// Whether the body's consumer takes bytes.
        enum Flow {
            /// It does.
            case flowing
            /// Its buffer is full: the next write callback pauses the transfer.
            case stopped
            /// curl holds the transfer paused until the consumer asks for more.
            case paused
        }

        private(set) var state = State.idle

        enum StartAction {
            /// Configure the easy handle and add it to curl.
            case addToCurl
            /// A cancel overtook the add: tell the caller, start nothing.
            case failCaller(Caller, UpstreamError)
        }

        /// The loop took the `add` command.
        mutating func start(_ caller: Caller) -> StartAction {
            switch self.state {
            case .idle:
                self.state = .waitingForHead(caller)
                return .addToCurl
            case .finished:  // only a cancel ends a transfer before it starts
                return .failCaller(caller, UpstreamError(kind: .cancelled, message: "cancelled before it started"))
            case .waitingForHead, .streaming:
                preconditionFailure("a transfer started twice")
            }
        }

        /// The head is complete: hand it over (if nobody has yet) and stream from now on.
        mutating func headReceived() -> Caller? {
            guard case .waitingForHead(let caller) = self.state else { return nil }
            self.state = .streaming(caller.source, .flowing)
            return caller
        }

        enum WriteAction {
            /// Nobody will read: abort the transfer.
            case abort
            /// The consumer's buffer is full: pause (curl keeps the bytes and hands them over again).
            case pause
            /// Hand the bytes to the consumer.
            case yield(UpstreamBody.Producer.Source)
            /// Body bytes before the head was seen to end: deliver the head first, then the bytes.
            case deliverHeadAndYield(Caller)
        }

        /// curl's write callback has bytes (possibly none).
        mutating func bytesReceived() -> WriteAction {
            switch self.state {
            case .streaming(let source, .flowing):
                return .yield(source)
            case .streaming(let source, .stopped), .streaming(let source, .paused):
                self.state = .streaming(source, .paused)
                return .pause
            case .waitingForHead:
                return self.headReceived().map(WriteAction.deliverHeadAndYield) ?? .abort
            case .idle, .finished:
                return .abort
            }
        }

        /// A yield found the consumer's buffer full, and no demand came back meanwhile.
        mutating func consumerStopped() {
            guard case .streaming(let source, .flowing) = self.state else { return }
            self.state = .streaming(source, .stopped)
        }

        /// The consumer asked for more. Returns true when curl must be told to resume a paused transfer.
        mutating func consumerWantsMore() -> Bool {
            guard case .streaming(let source, let flow) = self.state, flow != .flowing else { return false }
            self.state = .streaming(source, .flowing)
            return flow == .paused
        }

        enum FinishAction {
            /// Nobody is waiting: it had not started, or had already ended.
            case none
            /// Failed before its head: the caller hears why.
            case failCaller(Caller, UpstreamError)
            /// Completed before the head was handed over (no body): deliver it, then end the body.
            case deliverHeadAndFinishBody(Caller)
            /// Ended after the head: the body ends, with `error` when it failed.
            case finishBody(UpstreamBody.Producer.Source, UpstreamError?)
        }

        /// The transfer ended, with `error` unless it completed.
        mutating func finish(_ error: UpstreamError?) -> FinishAction {
            let state = self.state
            self.state = .finished
            switch state {
            case .idle, .finished:
                return .none
            case .waitingForHead(let caller):
                if let error { return .failCaller(caller, error) }
                return .deliverHeadAndFinishBody(caller)
            case .streaming(let source, _):
                return .finishBody(source, error)
            }
        }

        var isWaitingForHead: Bool {
            if case .waitingForHead = self.state { true } else { false }
        }

        var isPaused: Bool {
            if case .streaming(_, .paused) = self.state { true } else { false }
        }

        /// The body's source while its consumer takes bytes: when a heartbeat may go out.
        var flowingSource: UpstreamBody.Producer.Source? {
            if case .streaming(let source, .flowing) = self.state { source } else { nil }
        }
    }
}
