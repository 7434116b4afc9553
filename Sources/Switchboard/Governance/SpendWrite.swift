/// Where the spend a directory has not written yet stands: nothing on its way, a batch being written, or a
/// batch whose write failed. A failed batch is written again as it is, under its id, before anything newer,
/// so a shared store that committed it but whose answer was lost counts it once (the id is in the store).
enum SpendWrite: Sendable {
    case idle
    case writing(SpendBatch)
    case failed(SpendBatch)

    enum Action: Sendable {
        case write(SpendBatch)
        /// Another caller is writing; ask again shortly.
        case wait
        /// Nothing left to write.
        case done
    }

    /// The next step of a flush: the failed batch again, else what is `pending` (which then starts anew).
    mutating func next(pending: inout SpendBatch) -> Action {
        switch self {
        case .writing:
            return .wait
        case .failed(let batch):
            self = .writing(batch)
            return .write(batch)
        case .idle:
            guard !pending.isEmpty else { return .done }
            let batch = pending
            pending = SpendBatch()
            self = .writing(batch)
            return .write(batch)
        }
    }

    mutating func written() {
        self = .idle
    }

    mutating func failed() {
        if case .writing(let batch) = self { self = .failed(batch) }
    }

    /// The batch on its way or failed, whose spend is not known to be in the store.
    var unconfirmed: SpendBatch? {
        switch self {
        case .idle: nil
        case .writing(let batch), .failed(let batch): batch
        }
    }
}
