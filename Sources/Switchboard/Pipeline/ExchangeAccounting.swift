import Upstream

/// Stage 6, accounting: what an answer says about itself — usage, stop reason, first token, tool calls,
/// its id — and how its stream ended, written into the ``Exchange`` as the answer passes.
///
/// One path for every kind of answer: translated answers report through ``observe(_:)``, passthrough
/// answers through the same methods from Anthropic's wire events (``AnthropicUsageReader``).
struct ExchangeAccounting: Sendable {
    let exchange: Exchange
    /// The provider's name, for the errors clients see.
    let provider: String
    /// Keep the response text for spans (only when content capture is on).
    var captureContent = false

    func observe(_ event: AnthropicEvent) {
        switch event {
        case .messageStart(let message):
            self.messageStarted(id: message.id, usage: message.usage)
        case .contentBlockStart(_, .toolUse(let id, let name, _)):
            self.toolCallStarted(id: id, name: name)
        case .contentBlockDelta(_, let delta):
            if case .text(let text) = delta { self.contentArrived(text: text) } else { self.contentArrived(text: nil) }
        case .messageDelta(let stopReason, _, let usage):
            self.messageEnded(stopReason: stopReason, usage: usage)
        case .error(let error):
            self.exchange.update { $0.errorType = error.type }
        case .contentBlockStart, .contentBlockStop, .messageStop, .ping:
            break
        }
    }

    func messageStarted(id: String?, usage: AnthropicUsage?) {
        self.exchange.update { record in
            if let usage { record.usage = usage }
            if let id { record.responseID = id }
        }
    }

    func toolCallStarted(id: String, name: String) {
        self.exchange.update { $0.toolCalls.append((id, name)) }
    }

    /// A content delta: the first marks the first token; `text` is kept when content capture is on.
    func contentArrived(text: String?) {
        self.exchange.mark(.firstToken)
        guard self.captureContent, let text else { return }
        // Appended in place: rebuilding the text for each delta would make capture quadratic.
        self.exchange.update { record in
            if record.capturedOutput == nil { record.capturedOutput = text } else { record.capturedOutput! += text }
        }
    }

    /// The final usage (cumulative) and stop reason. Anthropic's `message_delta` may omit input counts,
    /// so a zero there keeps what `message_start` said.
    func messageEnded(stopReason: String?, usage: AnthropicUsage?) {
        self.exchange.update { record in
            if let usage {
                record.usage.outputTokens = usage.outputTokens
                if usage.inputTokens > 0 { record.usage.inputTokens = usage.inputTokens }
                if usage.cacheReadInputTokens > 0 { record.usage.cacheReadInputTokens = usage.cacheReadInputTokens }
                if usage.cacheCreationInputTokens > 0 {
                    record.usage.cacheCreationInputTokens = usage.cacheCreationInputTokens
                }
            }
            if let stopReason { record.stopReason = stopReason }
        }
    }

    /// The upstream's answer is complete.
    func streamEnded() {
        self.exchange.mark(.upstreamFinished)
    }

    /// The upstream reported an error of Anthropic type `type` inside an answer it had begun, and the
    /// bytes go on to the client as they are (the passthrough's `event: error`).
    func upstreamReportedError(type: String) {
        self.exchange.failAttempt(UpstreamReportedError.kind(ofType: type))
        self.exchange.update { $0.errorType = type }
    }

    /// The answer broke off after it began. Records the upstream's failure on the attempt (a transport
    /// break, or an error the upstream reported in the stream) and returns the error the client sees.
    /// Cancellation (the client went away) is not a failure of the upstream and is not passed here.
    func streamFailed(_ error: any Error) -> AnthropicError {
        self.exchange.mark(.upstreamFinished)
        let (failure, kind) = AnthropicError.readingAnswer(failedWith: error, provider: self.provider)
        // A reader that already said why (a malformed call) keeps its kind.
        self.exchange.failAttemptUnlessFailed(kind)
        self.exchange.update { $0.errorType = failure.type }
        return failure
    }
}
