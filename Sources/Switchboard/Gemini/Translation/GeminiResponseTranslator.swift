/// Gemini responses (one, or a stream of chunks) → Anthropic stream events. One per response.
///
/// Invariants the client relies on: `message_start` first; blocks indexed from 0, each
/// start → deltas → stop, never interleaved; a thinking block gets its `signature_delta` before it
/// stops; tool input always arrives as `input_json_delta` (`{}` when empty); `message_delta` carries
/// cumulative usage, then `message_stop`. `message_start` waits for the first content, so a response
/// that fails before any (a malformed call) can be retried without the client noticing.
///
/// Google Search grounding becomes Anthropic's web search blocks: a `server_tool_use` (`web_search`, its
/// queries) and a `web_search_tool_result` listing the sources, placed where the grounding metadata
/// arrives — before the text of a whole answer, after the text already streamed in a stream.
struct GeminiResponseTranslator: AnswerTranslation {
    /// The response ended in a way that must not pass as a normal end of turn.
    struct MalformedCall: RetryableAnswerFailure {
        let reason: String
        let message: String?
        /// Nothing reached the client yet, so the request may be sent again.
        let canRetry: Bool

        var note: TranslationEvent { TranslationEvent(.malformedCall, "\(self.reason): \(self.message ?? "")") }

        func clientError(repeated: Bool) -> AnthropicError {
            .api(
                "gemini ended the response with \(self.reason)\(repeated ? " twice" : ""); \(self.message ?? "no detail")",
                status: 502
            )
        }
    }

    private enum OpenBlock {
        case text(index: Int)
        case thinking(index: Int, signature: String?)
    }

    let model: String
    let declaredTools: Set<String>
    let signatures: ThoughtSignatures
    /// The client's web search tool, whose domain filters the listed sources must obey.
    let webSearch: WebSearchOptions?

    private var hasStarted = false
    private var openBlock: OpenBlock?
    private var nextIndex = 0
    private var sawFunctionCall = false
    private var usage = AnthropicUsage()
    private var finishReason: String?
    private var finishMessage: String?
    private var blockReason: String?
    private var messageID = Identifiers.message()
    private var grounding = Grounding()
    private(set) var events: [TranslationEvent] = []
    /// Output tokens spent thinking, per the last usage report.
    private(set) var thinkingTokens = 0

    init(model: String, declaredTools: Set<String>, signatures: ThoughtSignatures, webSearch: WebSearchOptions? = nil) {
        self.model = model
        self.declaredTools = declaredTools
        self.signatures = signatures
        self.webSearch = webSearch
    }

    /// Marks an opaque signature for thinking blocks made from Gemini thought summaries: Claude Code
    /// echoes it, and Switchboard drops those blocks on the way back.
    static let thoughtSummarySignature = "switchboard.gemini.thought-summary"

    /// A Gemini response, or the `error` object Gemini puts in a stream that began with 200.
    mutating func consume(json: JSONValue) throws -> [AnthropicEvent] {
        if let error = json["error"] { throw UpstreamReportedError(error: GeminiErrorMapper.midStream(error)) }
        return self.consume(try GeminiResponse(json: json))
    }

    mutating func consume(_ response: GeminiResponse) -> [AnthropicEvent] {
        if let metadata = response.usageMetadata {
            self.usage = metadata.anthropicUsage
            self.thinkingTokens = metadata.thoughtsTokenCount ?? 0
        }
        if let reason = response.promptFeedback?.blockReason { self.blockReason = reason }
        var output: [AnthropicEvent] = []
        guard let candidate = response.candidates?.first else { return output }
        // Sources go first while no block has opened (a whole answer, as Anthropic orders it), else after
        // this chunk's parts, so that a text block being streamed is not cut in two.
        let groundsFirst = self.nextIndex == 0
        if groundsFirst, let metadata = candidate.groundingMetadata {
            self.ground(metadata, into: &output)
        }
        for part in candidate.content?.parts ?? [] {
            self.translate(part, into: &output)
        }
        if !groundsFirst, let metadata = candidate.groundingMetadata {
            self.ground(metadata, into: &output)
        }
        if let reason = candidate.finishReason {
            self.finishReason = reason
            self.finishMessage = candidate.finishMessage
        }
        return output
    }

    /// The closing events, once the upstream has nothing more.
    mutating func finish() throws -> [AnthropicEvent] {
        if let reason = self.finishReason, reason == "MALFORMED_FUNCTION_CALL" || reason == "UNEXPECTED_TOOL_CALL" {
            throw MalformedCall(reason: reason, message: self.finishMessage, canRetry: !self.hasStarted)
        }
        guard self.finishReason != nil || self.blockReason != nil else {
            throw AnthropicError.api("the gemini stream ended without a finish reason (truncated upstream response)", status: 502)
        }
        var output: [AnthropicEvent] = []
        self.startIfNeeded(into: &output)
        if !self.grounding.pendingQueries.isEmpty {
            // Searches that listed no source still happened, and were billed.
            self.listSearch(sources: [], into: &output)
        }
        self.closeOpenBlock(into: &output)
        var usage = self.usage
        usage.webSearchRequests = max(self.grounding.queries.count, self.grounding.listed)
        output.append(.messageDelta(stopReason: self.stopReason, stopSequence: nil, usage: usage))
        output.append(.messageStop)
        return output
    }

    private var stopReason: String {
        if self.blockReason != nil { return "refusal" }
        switch self.finishReason {
        case "MAX_TOKENS": return "max_tokens"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
            "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "LANGUAGE":
            return "refusal"
        default:
            // Gemini says STOP after function calls too; the calls decide.
            return self.sawFunctionCall ? "tool_use" : "end_turn"
        }
    }

    // MARK: - Parts

    private mutating func translate(_ part: GeminiPart, into output: inout [AnthropicEvent]) {
        if let call = part.functionCall {
            self.startIfNeeded(into: &output)
            self.closeOpenBlock(into: &output)
            if !self.declaredTools.contains(call.name) {
                self.events.append(TranslationEvent(.unknownTool, call.name))
            }
            let id = self.signatures.mintToolUseID(signature: part.thoughtSignature)
            var arguments = "{}"
            if let args = call.args, case .object(let object) = args, !object.isEmpty {
                arguments = args.jsonText
            }
            let index = self.nextIndex
            self.nextIndex += 1
            output.append(.contentBlockStart(index: index, block: .toolUse(id: id, name: call.name, input: .object([:]))))
            output.append(.contentBlockDelta(index: index, delta: .inputJSON(arguments)))
            output.append(.contentBlockStop(index: index))
            self.sawFunctionCall = true
            return
        }
        guard let text = part.text, !text.isEmpty else { return }  // empty text carries only a signature
        self.startIfNeeded(into: &output)
        if part.thought == true {
            if case .thinking = self.openBlock {} else {
                self.closeOpenBlock(into: &output)
                self.openBlock = .thinking(index: self.nextIndex, signature: part.thoughtSignature)
                output.append(.contentBlockStart(index: self.nextIndex, block: .thinking(thinking: "", signature: "")))
                self.nextIndex += 1
            }
            if case .thinking(let index, _) = self.openBlock {
                output.append(.contentBlockDelta(index: index, delta: .thinking(text)))
            }
        } else {
            if case .text = self.openBlock {} else {
                self.closeOpenBlock(into: &output)
                self.openBlock = .text(index: self.nextIndex)
                output.append(.contentBlockStart(index: self.nextIndex, block: .text("")))
                self.nextIndex += 1
            }
            if case .text(let index) = self.openBlock {
                output.append(.contentBlockDelta(index: index, delta: .text(text)))
            }
        }
    }

    // MARK: - Grounding

    /// What grounding metadata said so far. Streamed chunks may repeat earlier queries and sources.
    private struct Grounding {
        var queries: [String] = []
        /// Queries not yet shown in a `server_tool_use`: they wait for their sources.
        var pendingQueries: [String] = []
        var sourceURIs: Set<String> = []
        /// `server_tool_use` blocks sent.
        var listed = 0
    }

    private mutating func ground(_ metadata: GeminiResponse.GroundingMetadata, into output: inout [AnthropicEvent]) {
        for query in metadata.webSearchQueries where !self.grounding.queries.contains(query) {
            self.grounding.queries.append(query)
            self.grounding.pendingQueries.append(query)
        }
        let sources = metadata.sources.filter { self.grounding.sourceURIs.insert($0.uri).inserted }
        guard !sources.isEmpty else { return }
        self.startIfNeeded(into: &output)
        self.listSearch(sources: sources, into: &output)
    }

    /// One `server_tool_use` for the pending queries and one `web_search_tool_result` for `sources`: Gemini
    /// does not say which query found which source, so the queries share one block (`a | b`).
    private mutating func listSearch(
        sources: [GeminiResponse.GroundingMetadata.Source],
        into output: inout [AnthropicEvent]
    ) {
        self.closeOpenBlock(into: &output)
        let query = self.grounding.pendingQueries.isEmpty
            ? (self.grounding.queries.last ?? "") : self.grounding.pendingQueries.joined(separator: " | ")
        self.grounding.pendingQueries = []
        self.grounding.listed += 1
        let id = Identifiers.serverToolUse()
        let results = sources.filter { self.isAllowed($0) }.map { source in
            WebSearchResult(url: source.uri, title: source.title ?? source.uri, encryptedContent: "")
        }
        let index = self.nextIndex
        self.nextIndex += 2
        let input = JSONValue.object(["query": .string(query)]).jsonText
        output.append(.contentBlockStart(index: index, block: .serverToolUse(id: id, name: "web_search", input: .object([:]))))
        output.append(.contentBlockDelta(index: index, delta: .inputJSON(input)))
        output.append(.contentBlockStop(index: index))
        let result = AnthropicResponseBlock.webSearchToolResult(toolUseID: id, results: results)
        output.append(.contentBlockStart(index: index + 1, block: result))
        output.append(.contentBlockStop(index: index + 1))
    }

    /// The client's domain filters, which the Gemini API cannot apply to the search itself. A web source's
    /// title is its domain; its URI is Google's redirect, so it cannot tell the domain.
    private func isAllowed(_ source: GeminiResponse.GroundingMetadata.Source) -> Bool {
        let domain = (source.title ?? "").lowercased()
        func matches(_ filter: String) -> Bool {
            var filter = filter.lowercased()
            if let scheme = filter.firstRange(of: "://") { filter = String(filter[scheme.upperBound...]) }
            filter = String(filter.prefix { $0 != "/" })
            if filter.hasPrefix("www.") { filter.removeFirst(4) }
            return domain == filter || domain.hasSuffix("." + filter)
        }
        if let allowed = self.webSearch?.allowedDomains, !allowed.contains(where: matches) { return false }
        if let blocked = self.webSearch?.blockedDomains, blocked.contains(where: matches) { return false }
        return true
    }

    private mutating func startIfNeeded(into output: inout [AnthropicEvent]) {
        guard !self.hasStarted else { return }
        self.hasStarted = true
        var startUsage = self.usage
        startUsage.outputTokens = min(startUsage.outputTokens, 1)
        output.append(.messageStart(AnthropicMessageResponse(id: self.messageID, model: self.model, usage: startUsage)))
    }

    private mutating func closeOpenBlock(into output: inout [AnthropicEvent]) {
        switch self.openBlock {
        case .text(let index):
            output.append(.contentBlockStop(index: index))
        case .thinking(let index, let signature):
            output.append(.contentBlockDelta(index: index, delta: .signature(signature ?? Self.thoughtSummarySignature)))
            output.append(.contentBlockStop(index: index))
        case nil:
            break
        }
        self.openBlock = nil
    }
}
