/// `mock/<name>`: answers in-process, in exact Anthropic format, without touching the network.
///
/// It echoes the last user text (or `mock_response`), in text deltas of `mock_chunk_chars` characters
/// spaced by `mock_delay_ms`. With `mock_tool_call: {name, input}` it first calls that tool, then
/// answers the tool's result with text. For trying a setup out, for tests, and for benchmarks that
/// measure Switchboard alone.
struct MockProvider: Provider {
    let script: MockScript

    init(deployment: ModelDeployment) {
        self.script = MockScript(deployment: deployment)
    }

    func sendMessage(_ call: ProviderCall) async throws -> ProviderReply {
        call.upstream.answerInProcess(model: call.route.upstreamModel)
        let events = self.script.events(answering: call.request, model: call.route.upstreamModel)
        return .events(MockEventSequence(events: events, delay: self.script.delay))
    }

    func countTokens(_ call: ProviderCall) async throws -> ProviderReply {
        .tokenCount(TokenEstimator.inputTokens(of: call.request), estimated: true)
    }
}

/// What the mock says, from its `litellm_params`.
struct MockScript: Sendable {
    var fixedResponse: String?
    var delay: Duration
    var chunkCharacters: Int
    var toolCall: (name: String, input: JSONValue)?

    init(deployment: ModelDeployment) {
        let parameters = deployment.parameters
        self.fixedResponse = parameters["mock_response"]?.stringValue
        if case .number(let milliseconds) = parameters["mock_delay_ms"] {
            self.delay = .milliseconds(Int64(milliseconds))
        } else {
            self.delay = .zero
        }
        if case .number(let characters) = parameters["mock_chunk_chars"], characters >= 1 {
            self.chunkCharacters = Int(characters)
        } else {
            self.chunkCharacters = 16
        }
        if let call = parameters["mock_tool_call"], let name = call["name"]?.stringValue {
            self.toolCall = (name, call["input"] ?? .object([:]))
        }
    }

    /// The whole answer to `request`, as the events a streaming client would receive.
    func events(answering request: AnthropicRequest, model: String) -> [AnthropicEvent] {
        let toolResult = Self.trailingToolResult(of: request)
        let text: String
        var toolUse: (id: String, name: String, input: JSONValue)?
        if let toolResult {
            text = self.fixedResponse ?? "Tool result: \(toolResult)"
        } else if let toolCall = self.toolCall {
            text = "Calling \(toolCall.name)."
            toolUse = (Identifiers.toolUse(), toolCall.name, toolCall.input)
        } else {
            text = self.fixedResponse ?? request.lastUserText ?? "(no user text to echo)"
        }

        let inputTokens = TokenEstimator.inputTokens(of: request)
        var usage = AnthropicUsage(inputTokens: inputTokens, outputTokens: 1)
        var events: [AnthropicEvent] = [
            .messageStart(AnthropicMessageResponse(id: Identifiers.message(), model: model, usage: usage)),
            .contentBlockStart(index: 0, block: .text("")),
        ]
        for chunk in text.chunked(into: self.chunkCharacters) {
            events.append(.contentBlockDelta(index: 0, delta: .text(chunk)))
        }
        events.append(.contentBlockStop(index: 0))
        var outputTokens = TokenEstimator.tokens(inText: text)
        if let toolUse {
            let arguments = toolUse.input.jsonText
            events.append(.contentBlockStart(index: 1, block: .toolUse(id: toolUse.id, name: toolUse.name, input: .object([:]))))
            events.append(.contentBlockDelta(index: 1, delta: .inputJSON(arguments)))
            events.append(.contentBlockStop(index: 1))
            outputTokens += TokenEstimator.tokens(inText: arguments)
        }
        usage.outputTokens = outputTokens
        events.append(.messageDelta(stopReason: toolUse == nil ? "end_turn" : "tool_use", stopSequence: nil, usage: usage))
        events.append(.messageStop)
        return events
    }

    /// The text of the tool results in the last user message, when it carries any.
    private static func trailingToolResult(of request: AnthropicRequest) -> String? {
        guard let last = request.messages.last(where: { $0.role == .user }) else { return nil }
        let results = last.content.compactMap { block -> String? in
            guard case .toolResult(_, let content, _) = block else { return nil }
            return content.compactMap { if case .text(let text) = $0 { text } else { nil } }.joined(separator: "\n")
        }
        return results.isEmpty ? nil : results.joined(separator: "\n")
    }
}

/// Replays precomputed events, pausing `delay` before each content delta. Cancellation ends it at the
/// next pause.
struct MockEventSequence: AsyncSequence, Sendable {
    let events: [AnthropicEvent]
    let delay: Duration

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<AnthropicEvent>
        let delay: Duration

        mutating func next() async throws -> AnthropicEvent? {
            guard let event = self.remaining.popFirst() else { return nil }
            if self.delay > .zero, case .contentBlockDelta = event {
                try await Task.sleep(for: self.delay)
            }
            return event
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(remaining: self.events[...], delay: self.delay)
    }
}

extension String {
    /// The string in pieces of at most `size` characters (never splitting a character).
    func chunked(into size: Int) -> [String] {
        guard !self.isEmpty else { return [""] }
        var chunks: [String] = []
        var index = self.startIndex
        while index < self.endIndex {
            let end = self.index(index, offsetBy: size, limitedBy: self.endIndex) ?? self.endIndex
            chunks.append(String(self[index..<end]))
            index = end
        }
        return chunks
    }
}
