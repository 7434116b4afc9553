/// Chat Completions chunks (or one whole completion) → Anthropic stream events. One per response.
///
/// Reasoning streams as a thinking block, text as a text block, as they arrive. Tool calls are
/// assembled by their `index` — a call's arguments may come in one piece or in many, interleaved with
/// another call's — and each is sent whole, as one `tool_use` block, when the answer finishes: only then
/// can its arguments be checked. Arguments that are not JSON are never passed on: a call cut by the token
/// limit is dropped (the answer says `max_tokens`), any other is a ``MalformedArguments`` failure.
/// `message_start` waits for the first content, so a failure before any can be retried unseen.
struct ChatCompletionsResponseTranslator: AnswerTranslation {
    /// A call whose arguments are not JSON (or that names no function), where the answer did not run out of tokens.
    struct MalformedArguments: RetryableAnswerFailure {
        let provider: String
        let tool: String
        /// Nothing reached the client yet, so the request may be sent again.
        let canRetry: Bool

        var note: TranslationEvent {
            TranslationEvent(.malformedCall, self.tool == Self.unnamed ? "a call without a function name" : "\(self.tool): arguments are not JSON")
        }

        static let unnamed = "(unnamed)"

        func clientError(repeated: Bool) -> AnthropicError {
            .api("\(self.provider) sent a call to \(self.tool) whose arguments are not JSON\(repeated ? ", twice" : "")", status: 502)
        }
    }

    private enum OpenBlock {
        case text(index: Int)
        case thinking(index: Int)
    }

    /// One call being assembled.
    private struct PendingCall {
        var id: String?
        var name = ""
        var arguments = ""
    }

    let model: String
    let declaredTools: Set<String>
    /// How the service words an error it sends in place of a chunk.
    let errors: ChatCompletionsErrorMapper

    private var hasStarted = false
    private var openBlock: OpenBlock?
    private var nextIndex = 0
    /// Calls by their `index`, in the order they began.
    private var calls: [(index: Int, call: PendingCall)] = []
    private var finishReason: String?
    private var stopSequence: String?
    private var usage = ChatCompletionsChunk.Usage()
    private let messageID = Identifiers.message()
    private(set) var events: [TranslationEvent] = []
    /// Output tokens spent reasoning, where the service says.
    var thinkingTokens: Int { self.usage.reasoningTokens }

    init(model: String, declaredTools: Set<String>, errors: ChatCompletionsErrorMapper) {
        self.model = model
        self.declaredTools = declaredTools
        self.errors = errors
    }

    /// Signs the thinking blocks made from a service's reasoning: Claude Code sends them back, and the
    /// request translator leaves them out.
    static let reasoningSignature = "switchboard.openai.reasoning"

    /// A chunk (or a whole completion), or the `error` object a service sends in place of one.
    mutating func consume(json: JSONValue) throws -> [AnthropicEvent] {
        if let error = json["error"], json["choices"] == nil {
            throw UpstreamReportedError(error: self.errors.midStream(error))
        }
        return self.consume(try ChatCompletionsChunk(json: json))
    }

    mutating func consume(_ chunk: ChatCompletionsChunk) -> [AnthropicEvent] {
        if let usage = chunk.usage { self.usage = usage }
        var output: [AnthropicEvent] = []
        if let reasoning = chunk.reasoning, !reasoning.isEmpty {
            self.append(reasoning, thinking: true, into: &output)
        }
        for text in [chunk.content, chunk.refusal].compactMap({ $0 }) where !text.isEmpty {
            self.append(text, thinking: false, into: &output)
        }
        for fragment in chunk.toolCalls {
            let position: Int
            if let found = self.calls.firstIndex(where: { $0.index == fragment.index }) {
                position = found
            } else {
                self.calls.append((fragment.index, PendingCall()))
                position = self.calls.count - 1
            }
            if let id = fragment.id, !id.isEmpty, self.calls[position].call.id == nil { self.calls[position].call.id = id }
            if let name = fragment.name { self.calls[position].call.name += name }
            if let arguments = fragment.arguments { self.calls[position].call.arguments += arguments }
        }
        if let reason = chunk.finishReason {
            self.finishReason = reason
            self.stopSequence = chunk.stopSequence
        }
        return output
    }

    /// The calls, the closing events, once the upstream has nothing more.
    mutating func finish() throws -> [AnthropicEvent] {
        guard let finishReason = self.finishReason else {
            throw AnthropicError.api("the upstream's answer ended without a finish_reason (truncated response)", status: 502)
        }
        let truncated = finishReason == "length"
        var ready: [(id: String, name: String, arguments: String)] = []
        var ids: Set<String> = []
        for (_, call) in self.calls {
            guard let arguments = self.checkedArguments(call, truncated: truncated) else {
                if truncated { continue }
                throw MalformedArguments(
                    provider: self.errors.provider, tool: call.name.isEmpty ? MalformedArguments.unnamed : call.name, canRetry: !self.hasStarted
                )
            }
            if !self.declaredTools.contains(call.name) { self.events.append(TranslationEvent(.unknownTool, call.name)) }
            // The service's id when it gave a usable one; a Claude Code conversation needs each to be unique.
            var id = call.id ?? ""
            if id.isEmpty || !ids.insert(id).inserted {
                id = Identifiers.toolUse()
                ids.insert(id)
            }
            ready.append((id, call.name, arguments))
        }
        var output: [AnthropicEvent] = []
        self.startIfNeeded(into: &output)
        self.closeOpenBlock(into: &output)
        for call in ready {
            let index = self.nextIndex
            self.nextIndex += 1
            output.append(.contentBlockStart(index: index, block: .toolUse(id: call.id, name: call.name, input: .object([:]))))
            output.append(.contentBlockDelta(index: index, delta: .inputJSON(call.arguments)))
            output.append(.contentBlockStop(index: index))
        }
        let stopReason: String
        var stopSequence: String?
        switch finishReason {
        case "length": stopReason = "max_tokens"
        case "content_filter": stopReason = "refusal"
        default:
            // Some servers say `stop` after calls; the calls decide.
            if !ready.isEmpty {
                stopReason = "tool_use"
            } else if let sequence = self.stopSequence {
                (stopReason, stopSequence) = ("stop_sequence", sequence)
            } else {
                stopReason = "end_turn"
            }
        }
        output.append(.messageDelta(stopReason: stopReason, stopSequence: stopSequence, usage: self.anthropicUsage))
        output.append(.messageStop)
        return output
    }

    /// The call's arguments as a JSON object's text: empty becomes `{}`, another JSON value is wrapped
    /// (counted); nil when they are not JSON or the call has no name (counted when the call is dropped; a
    /// failure's ``MalformedArguments`` carries its own note).
    private mutating func checkedArguments(_ call: PendingCall, truncated: Bool) -> String? {
        let text = call.arguments
        if !call.name.isEmpty, text.allSatisfy(\.isWhitespace) { return "{}" }
        guard !call.name.isEmpty, let value = try? JSONValue.parse(text) else {
            if truncated {
                self.events.append(TranslationEvent(.malformedCall, "\(call.name): arguments cut by the token limit; call dropped"))
            }
            return nil
        }
        if case .object = value { return text }
        self.events.append(TranslationEvent(.argumentsNotObject, call.name))
        return JSONValue.object(["value": value]).jsonText
    }

    private var anthropicUsage: AnthropicUsage {
        let cached = min(self.usage.cachedTokens, self.usage.promptTokens)
        return AnthropicUsage(
            inputTokens: self.usage.promptTokens - cached,
            outputTokens: self.usage.completionTokens,
            cacheReadInputTokens: cached
        )
    }

    private mutating func append(_ text: String, thinking: Bool, into output: inout [AnthropicEvent]) {
        self.startIfNeeded(into: &output)
        switch (self.openBlock, thinking) {
        case (.thinking(let index), true), (.text(let index), false):
            output.append(.contentBlockDelta(index: index, delta: thinking ? .thinking(text) : .text(text)))
        default:
            self.closeOpenBlock(into: &output)
            let index = self.nextIndex
            self.nextIndex += 1
            self.openBlock = thinking ? .thinking(index: index) : .text(index: index)
            output.append(.contentBlockStart(index: index, block: thinking ? .thinking(thinking: "", signature: "") : .text("")))
            output.append(.contentBlockDelta(index: index, delta: thinking ? .thinking(text) : .text(text)))
        }
    }

    private mutating func startIfNeeded(into output: inout [AnthropicEvent]) {
        guard !self.hasStarted else { return }
        self.hasStarted = true
        output.append(.messageStart(AnthropicMessageResponse(id: self.messageID, model: self.model, usage: AnthropicUsage())))
    }

    private mutating func closeOpenBlock(into output: inout [AnthropicEvent]) {
        switch self.openBlock {
        case .text(let index):
            output.append(.contentBlockStop(index: index))
        case .thinking(let index):
            output.append(.contentBlockDelta(index: index, delta: .signature(Self.reasoningSignature)))
            output.append(.contentBlockStop(index: index))
        case nil:
            break
        }
        self.openBlock = nil
    }
}
