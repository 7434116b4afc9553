/// Stage 7 for translated streams: reads usage, stop reason, first token and errors off the events as
/// they pass, into the ``Exchange``.
struct EventAccounting: Sendable {
    let exchange: Exchange
    /// Keep the response text for spans (only when content capture is on).
    var captureContent = false

    func observe(_ event: AnthropicEvent) {
        switch event {
        case .messageStart(let message):
            self.exchange.update { record in
                record.usage = message.usage
                record.responseID = message.id
            }
        case .contentBlockStart(_, .toolUse(let id, let name, _)):
            self.exchange.update { $0.toolCalls.append((id, name)) }
        case .contentBlockDelta(_, let delta):
            self.exchange.mark(.firstToken)
            if self.captureContent, case .text(let text) = delta {
                // Appended in place: rebuilding the text for each delta would make capture quadratic.
                self.exchange.update { record in
                    if record.capturedOutput == nil { record.capturedOutput = text } else { record.capturedOutput! += text }
                }
            }
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
