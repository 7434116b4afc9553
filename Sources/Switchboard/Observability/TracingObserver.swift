import Telemetry

/// Turns each finished ``ExchangeRecord`` into spans: a SERVER span for the HTTP request and a CLIENT
/// span `chat {model}` per upstream attempt, with the OpenTelemetry GenAI attributes, tool calls and
/// translation problems as events, and the Claude Code session and the virtual key's alias and team on every span.
public struct TracingObserver: ExchangeObserver {
    let record: @Sendable (SpanData) -> Void

    /// Spans go to `record` (the batch processor's `onEnd`).
    public init(record: @escaping @Sendable (SpanData) -> Void) {
        self.record = record
    }

    public func exchangeDidFinish(_ exchange: ExchangeRecord) {
        // A caller whose `traceparent` says "not sampled" decided this trace is not kept (the W3C
        // parent-based rule every OpenTelemetry SDK follows); the flag still travels upstream.
        guard exchange.trace.isSampled,
            let received = exchange.timings[.received], let finished = exchange.timings[.finished]
        else { return }
        let base = UInt64(exchange.startTime * 1e9)
        func nanos(_ instant: ContinuousClock.Instant) -> UInt64 {
            base &+ UInt64(max(0, (instant - received).seconds * 1e9))
        }

        var session: [String: AttributeValue] = [:]
        if let id = exchange.sessionID {
            session["session.id"] = .string(id)
            session["gen_ai.conversation.id"] = .string(id)
        }
        // Who asked, by name: the key's alias (else its sk-...abcd name) and team, never the key.
        if let key = exchange.virtualKey {
            session["switchboard.key_alias"] = .string(key.label.alias)
            if let team = key.teamID { session["switchboard.team_id"] = .string(team) }
        }

        var server = session
        server["http.request.method"] = .string(exchange.method)
        server["http.route"] = .string(exchange.route)
        server["http.response.status_code"] = .int(Int64(exchange.status))
        server["switchboard.request_id"] = .string(exchange.requestID)
        if let agent = exchange.userAgent { server["user_agent.original"] = .string(agent) }
        if let error = exchange.errorType { server["error.type"] = .string(error) }
        if exchange.clientDisconnected { server["switchboard.client_disconnected"] = .bool(true) }
        if let group = exchange.modelGroup {
            server["switchboard.model_group"] = .string(group)
            let chain = exchange.fallbackChain
            if chain.count > 1 { server["switchboard.fallback_chain"] = .stringArray(chain) }
            if let answered = exchange.upstreamAttempts.last?.target.deployment {
                server["switchboard.deployment"] = .string(answered)
            }
            server["switchboard.attempts"] = .int(Int64(exchange.upstreamAttempts.count))
        }
        let isServerError = exchange.status >= 500
        self.record(
            SpanData(
                traceID: exchange.trace.traceID,
                spanID: exchange.trace.spanID,
                parentSpanID: exchange.trace.parentSpanID,
                parentIsRemote: exchange.trace.parentSpanID != nil,
                name: exchange.route == "unmatched" ? exchange.method : "\(exchange.method) \(exchange.route)",
                kind: .server,
                startUnixNano: base,
                endUnixNano: nanos(finished),
                attributes: server,
                status: isServerError ? .error : .unset,
                statusMessage: isServerError ? exchange.errorType : nil
            )
        )

        guard exchange.provider != nil else { return }
        let upstreamEnd = exchange.timings[.upstreamFinished] ?? finished
        for (index, attempt) in exchange.upstreamAttempts.enumerated() {
            let isLast = index == exchange.upstreamAttempts.count - 1
            let end = isLast ? upstreamEnd : exchange.upstreamAttempts[index + 1].start
            var attributes = session
            let target = attempt.target
            attributes["gen_ai.operation.name"] = "chat"
            attributes["gen_ai.provider.name"] = .string(GatewayMetrics.genAIProviderName(target.provider))
            attributes["gen_ai.request.model"] = .string(target.upstreamModel)
            attributes["switchboard.attempt"] = .int(Int64(index + 1))
            attributes["switchboard.model_group"] = .string(target.modelGroup)
            attributes["switchboard.deployment"] = .string(target.deployment)
            if let decision = attempt.decision { attributes["switchboard.decision"] = .string(decision) }
            if let (address, port) = attempt.server {
                attributes["server.address"] = .string(address)
                attributes["server.port"] = .int(Int64(port))
            }
            if exchange.isStreaming { attributes["gen_ai.request.stream"] = .bool(true) }
            if let maxTokens = exchange.maxTokens { attributes["gen_ai.request.max_tokens"] = .int(Int64(maxTokens)) }
            if let temperature = exchange.temperature { attributes["gen_ai.request.temperature"] = .double(temperature) }
            var events: [SpanData.Event] = []
            if isLast {
                let usage = exchange.usage
                attributes["gen_ai.response.model"] = .string(exchange.upstreamModel ?? "")
                if let id = exchange.responseID { attributes["gen_ai.response.id"] = .string(id) }
                if let stop = exchange.stopReason { attributes["gen_ai.response.finish_reasons"] = .stringArray([stop]) }
                attributes["gen_ai.usage.input_tokens"] = .int(Int64(usage.inputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens))
                attributes["gen_ai.usage.output_tokens"] = .int(Int64(usage.outputTokens))
                attributes["gen_ai.usage.cache_read.input_tokens"] = .int(Int64(usage.cacheReadInputTokens))
                attributes["gen_ai.usage.cache_creation.input_tokens"] = .int(Int64(usage.cacheCreationInputTokens))
                if exchange.thinkingTokens > 0 { attributes["gen_ai.usage.reasoning.output_tokens"] = .int(Int64(exchange.thinkingTokens)) }
                if let first = exchange.timings[.firstToken] {
                    attributes["gen_ai.response.time_to_first_chunk"] = .double((first - attempt.start).seconds)
                }
                attributes["switchboard.cost_usd"] = .double(exchange.costUSD)
                if let input = exchange.capturedInput { attributes["gen_ai.input.messages"] = .string(input) }
                if exchange.capturedInput != nil {
                    attributes["gen_ai.output.messages"] = .string(
                        ContentCapture.outputMessages(text: exchange.capturedOutput, toolCalls: exchange.toolCalls, stopReason: exchange.stopReason)
                    )
                }
                for call in exchange.toolCalls {
                    events.append(SpanData.Event(name: "gen_ai.tool.call", timeUnixNano: nanos(end), attributes: [
                        "gen_ai.tool.name": .string(call.name), "gen_ai.tool.call.id": .string(call.id),
                    ]))
                }
                for translation in exchange.translationEvents {
                    events.append(SpanData.Event(name: "switchboard.tool_call_translation", timeUnixNano: nanos(attempt.start), attributes: [
                        "switchboard.translation.kind": .string(translation.kind.rawValue),
                        "switchboard.translation.detail": .string(translation.detail),
                    ]))
                }
            }
            let failure = attempt.failure
            if let failure { attributes["error.type"] = .string(failure) }
            self.record(
                SpanData(
                    traceID: attempt.span.traceID,
                    spanID: attempt.span.spanID,
                    parentSpanID: attempt.span.parentSpanID,
                    name: "chat \(target.upstreamModel)",
                    kind: .client,
                    startUnixNano: nanos(attempt.start),
                    endUnixNano: max(nanos(end), nanos(attempt.start)),
                    attributes: attributes,
                    events: events,
                    status: failure == nil ? .unset : .error,
                    statusMessage: failure
                )
            )
        }
    }
}
