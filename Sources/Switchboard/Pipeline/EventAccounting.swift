/// Stage 7 for translated streams: reads usage, stop reason, first token and errors off the events as
/// they pass, into the ``Exchange``.
struct EventAccounting: Sendable {
    let exchange: Exchange

    func observe(_ event: AnthropicEvent) {
        switch event {
        case .messageStart(let message):
            self.exchange.update { $0.usage = message.usage }
        case .contentBlockDelta:
            self.exchange.mark(.firstToken)
        case .messageDelta(let stopReason, _, let usage):
            self.exchange.update { record in
                record.usage = usage
                record.stopReason = stopReason
            }
        case .error(let error):
            self.exchange.update { $0.errorType = error.type }
        case .contentBlockStart, .contentBlockStop, .messageStop, .ping:
            break
        }
    }
}
