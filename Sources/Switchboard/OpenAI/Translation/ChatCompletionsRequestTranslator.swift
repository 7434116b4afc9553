/// Anthropic Messages request → OpenAI Chat Completions request (wire.md §E).
///
/// Rules: the system prompt, without Claude Code's billing line, is the first message (`developer` for
/// OpenAI's reasoning models); a user turn's tool results become `tool` messages placed first, right
/// after the assistant message whose calls they answer, and every call gets an answer (a note when the
/// client sent none, counted) because the API refuses a conversation otherwise; a tool result's images
/// follow in a user message, as `tool` messages take only text; documents go as text, PDFs as `file`
/// parts where the service takes them; thinking from earlier turns stays behind, except where the service
/// wants it back (DeepSeek's `reasoning_content`, which its thinking models require on every call).
struct ChatCompletionsRequestTranslator {
    let model: String
    let dialect: ChatCompletionsDialect
    let dropParams: Bool
    /// Whether the body names the model (not on an Azure deployment URL, where the deployment is the model).
    let namesModel: Bool
    /// What the model id says about the parameters it takes, read once.
    private let family: OpenAIModelFamily

    init(model: String, dialect: ChatCompletionsDialect, dropParams: Bool, namesModel: Bool = true) {
        self.model = model
        self.dialect = dialect
        self.dropParams = dropParams
        self.namesModel = namesModel
        self.family = OpenAIModelFamily(model: model)
    }

    struct Translation {
        var body: JSONObject
        var events: [TranslationEvent]
        /// The function names declared, to tell an undeclared call.
        var declaredTools: Set<String>
    }

    /// Whether OpenAI's rules for reasoning models apply to this request.
    private var reasoningRules: Bool { self.dialect.followsOpenAIReasoningRules && self.family.isReasoning }

    func translate(_ request: AnthropicRequest) throws -> Translation {
        var events: [TranslationEvent] = []
        var body: JSONObject = [:]
        if self.namesModel { body["model"] = .string(self.model) }
        var messages = self.systemMessages(request.system)
        messages += self.conversation(request.messages, events: &events)
        guard messages.contains(where: { $0["role"]?.stringValue != "system" && $0["role"]?.stringValue != "developer" }) else {
            throw AnthropicError.invalidRequest("messages: at least one message with content is required")
        }
        body["messages"] = .array(messages)
        if request.isStreaming {
            body["stream"] = .bool(true)
            body["stream_options"] = .object(["include_usage": .bool(true)])
        }
        self.limits(request, into: &body, events: &events)
        try self.sampling(request, into: &body, events: &events)
        let declared = try self.tools(request, into: &body, events: &events)
        if self.family.takesReasoningEffort,
            let effort = self.family.reasoningEffort(thinking: request.thinking, effort: request.outputConfig?["effort"]?.stringValue)
        {
            body["reasoning_effort"] = .string(effort)
        }
        if let format = request.outputConfig?["format"], format["type"]?.stringValue == "json_schema" {
            var schema: JSONObject = ["name": .string("response")]
            if let definition = format["schema"] { schema["schema"] = definition }
            body["response_format"] = .object(["type": .string("json_schema"), "json_schema": .object(schema)])
        }
        if let user = request.metadata?["user_id"]?.stringValue, !user.isEmpty {
            body["user"] = .string(user)
        }
        return Translation(body: body, events: events, declaredTools: declared)
    }

    // MARK: - Messages

    static let billingHeaderPrefix = "x-anthropic-billing-header:"

    private func systemMessages(_ system: SystemPrompt?) -> [JSONValue] {
        let texts = (system?.blocks ?? []).filter { !$0.isEmpty && !$0.hasPrefix(Self.billingHeaderPrefix) }
        guard !texts.isEmpty else { return [] }
        let role = self.reasoningRules ? "developer" : "system"
        return [.object(["role": .string(role), "content": .string(texts.joined(separator: "\n\n"))])]
    }

    private func conversation(_ messages: [AnthropicMessage], events: inout [TranslationEvent]) -> [JSONValue] {
        var output: [JSONValue] = []
        /// The calls of the assistant message just translated, not yet answered.
        var open: [(id: String, name: String)] = []
        for (position, message) in messages.enumerated() {
            switch message.role {
            case .assistant:
                self.answerOpenCalls(&open, into: &output, events: &events)
                let isLast = position == messages.count - 1
                if isLast, !message.content.contains(where: { if case .toolUse = $0 { true } else { false } }) {
                    // An assistant prefill: the API continues no partial answer.
                    if message.content.contains(where: { if case .text(let text) = $0 { !text.isEmpty } else { false } }) {
                        events.append(TranslationEvent(.contentDropped, "trailing assistant prefill"))
                    }
                    continue
                }
                if let assistant = self.assistantMessage(message.content, calls: &open, events: &events) {
                    output.append(assistant)
                }
            case .user, .system:
                var results: [JSONValue] = []
                var parts: [JSONValue] = []
                var resultMedia: [JSONValue] = []
                for block in message.content {
                    if case .toolResult(let id, let content, let isError) = block {
                        let (text, media) = self.toolResultContent(content, events: &events)
                        if let index = open.firstIndex(where: { $0.id == id }) {
                            open.remove(at: index)
                            results.append(Self.toolMessage(id: self.upstreamID(id), text: text))
                            if !media.isEmpty {
                                resultMedia.append(.object(["type": .string("text"), "text": .string("The result of call \(id) includes:")]))
                                resultMedia += media
                            }
                        } else {
                            events.append(TranslationEvent(.resultWithoutCall, id))
                            let label = isError ? "Tool error" : "Tool result"
                            parts.append(.object(["type": .string("text"), "text": .string("\(label) (\(id)): \(text)")]))
                            parts += media
                        }
                    } else {
                        parts += self.userParts(block, role: message.role, events: &events)
                    }
                }
                // Results come first, answering the calls; the user's own content follows them.
                output += results
                self.answerOpenCalls(&open, into: &output, events: &events)
                let content = resultMedia + parts
                if !content.isEmpty { Self.appendUser(content, to: &output) }
            }
        }
        self.answerOpenCalls(&open, into: &output, events: &events)
        return output
    }

    /// The API refuses a conversation in which a call has no answer: each gets a note, counted.
    private func answerOpenCalls(
        _ open: inout [(id: String, name: String)],
        into output: inout [JSONValue],
        events: inout [TranslationEvent]
    ) {
        for call in open {
            events.append(TranslationEvent(.callWithoutResult, call.name))
            output.append(Self.toolMessage(id: self.upstreamID(call.id), text: "(no result: the client sent none for this call)"))
        }
        open = []
    }

    private func assistantMessage(
        _ content: [AnthropicContentBlock],
        calls open: inout [(id: String, name: String)],
        events: inout [TranslationEvent]
    ) -> JSONValue? {
        var texts: [String] = []
        var reasoning: [String] = []
        var calls: [JSONValue] = []
        for block in content {
            switch block {
            case .text(let text) where !text.isEmpty:
                texts.append(text)
            case .toolUse(let id, let name, let input):
                var arguments = input
                if case .object = input {} else {
                    arguments = .object(["value": input])
                    events.append(TranslationEvent(.argumentsNotObject, name))
                }
                calls.append(.object([
                    "id": .string(self.upstreamID(id)),
                    "type": .string("function"),
                    "function": .object(["name": .string(name), "arguments": .string(arguments.jsonText)]),
                ]))
                open.append((id, name))
            case .other("server_tool_use", _), .other("web_search_tool_result", _):
                events.append(TranslationEvent(.contentDropped, "web search history"))
            case .thinking(let thinking, _) where !thinking.isEmpty:
                reasoning.append(thinking)
            case .text, .thinking, .redactedThinking:
                continue
            case .other(let type, _):
                events.append(TranslationEvent(.contentDropped, "block type \(type)"))
            case .image, .document, .toolResult:
                events.append(TranslationEvent(.contentDropped, "assistant media or tool result"))
            }
        }
        guard !texts.isEmpty || !calls.isEmpty else { return nil }
        var message: JSONObject = ["role": .string("assistant")]
        message["content"] = texts.isEmpty ? .null : .string(texts.joined(separator: "\n\n"))
        if !calls.isEmpty { message["tool_calls"] = .array(calls) }
        if let field = self.dialect.reasoningEcho, !reasoning.isEmpty || !calls.isEmpty {
            // Calls whose reasoning is not known (an earlier turn on another model) still carry the field.
            message[field] = .string(reasoning.joined(separator: "\n\n"))
        }
        return .object(message)
    }

    private func userParts(
        _ block: AnthropicContentBlock,
        role: AnthropicMessage.Role,
        events: inout [TranslationEvent]
    ) -> [JSONValue] {
        switch block {
        case .text(let text):
            guard !text.isEmpty else { return [] }
            // A mid-conversation system message: the API takes system messages only before the conversation.
            let wrapped = role == .system ? "<system-reminder>\n\(text)\n</system-reminder>" : text
            return [.object(["type": .string("text"), "text": .string(wrapped)])]
        case .image(let source), .document(let source):
            guard let part = self.mediaPart(source) else {
                events.append(TranslationEvent(.contentDropped, "\(source["media_type"]?.stringValue ?? source["type"]?.stringValue ?? "media") for \(self.dialect.provider.rawValue)"))
                return []
            }
            return [part]
        case .thinking, .redactedThinking:
            return []
        case .toolUse(_, let name, _):
            events.append(TranslationEvent(.contentDropped, "tool_use \(name) in a user message"))
            return []
        case .other(let type, _):
            events.append(TranslationEvent(.contentDropped, "block type \(type)"))
            return []
        case .toolResult:
            return []  // handled by the caller
        }
    }

    /// Text and text documents joined; images (and PDFs where taken) as parts for a following user message.
    private func toolResultContent(_ content: [AnthropicContentBlock], events: inout [TranslationEvent]) -> (String, [JSONValue]) {
        var texts: [String] = []
        var media: [JSONValue] = []
        for block in content {
            switch block {
            case .text(let text) where !text.isEmpty:
                texts.append(text)
            case .image(let source), .document(let source):
                guard let part = self.mediaPart(source) else {
                    events.append(TranslationEvent(.contentDropped, "tool result media for \(self.dialect.provider.rawValue)"))
                    continue
                }
                if let text = part["text"]?.stringValue { texts.append(text) } else { media.append(part) }
            default:
                continue
            }
        }
        return (texts.joined(separator: "\n"), media)
    }

    /// An image as an `image_url` part (a data URI for base64), a text document as a text part, a PDF as a
    /// `file` part where the service takes one; nil for what cannot go.
    private func mediaPart(_ source: JSONValue) -> JSONValue? {
        switch source["type"]?.stringValue {
        case "base64":
            guard let data = source["data"]?.stringValue, let mime = source["media_type"]?.stringValue else { return nil }
            let uri = "data:\(mime);base64,\(data)"
            if mime.hasPrefix("image/") {
                return .object(["type": .string("image_url"), "image_url": .object(["url": .string(uri)])])
            }
            guard mime == "application/pdf", self.dialect.takesFileParts else { return nil }
            return .object(["type": .string("file"), "file": .object(["filename": .string("document.pdf"), "file_data": .string(uri)])])
        case "url":
            guard let url = source["url"]?.stringValue else { return nil }
            if url.lowercased().prefix(while: { $0 != "?" }).hasSuffix(".pdf") { return nil }
            return .object(["type": .string("image_url"), "image_url": .object(["url": .string(url)])])
        case "text":
            guard let data = source["data"]?.stringValue, !data.isEmpty else { return nil }
            return .object(["type": .string("text"), "text": .string(data)])
        case "content":
            guard case .array(let blocks) = source["content"] else { return nil }
            let text = blocks.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
            return text.isEmpty ? nil : .object(["type": .string("text"), "text": .string(text)])
        default:
            return nil
        }
    }

    private func upstreamID(_ id: String) -> String {
        ToolCallIDs.upstream(id, style: self.dialect.toolCallIDs)
    }

    private static func toolMessage(id: String, text: String) -> JSONValue {
        .object(["role": .string("tool"), "tool_call_id": .string(id), "content": .string(text)])
    }

    /// Consecutive user turns (Claude Code's mid-conversation system reminder after the prompt) become one
    /// message: many servers' chat templates require user and assistant to alternate.
    private static func appendUser(_ parts: [JSONValue], to output: inout [JSONValue]) {
        guard let last = output.last, last["role"]?.stringValue == "user" else {
            output.append(Self.userMessage(parts))
            return
        }
        let earlier: [JSONValue] =
            switch last["content"] {
            case .string(let text)?: [.object(["type": .string("text"), "text": .string(text)])]
            case .array(let items)?: items
            default: []
            }
        output[output.count - 1] = Self.userMessage(earlier + parts)
    }

    /// One text part goes as a plain string, which every server takes.
    private static func userMessage(_ parts: [JSONValue]) -> JSONValue {
        if parts.count == 1, parts[0]["type"]?.stringValue == "text", let text = parts[0]["text"] {
            return .object(["role": .string("user"), "content": text])
        }
        return .object(["role": .string("user"), "content": .array(parts)])
    }

    // MARK: - Parameters

    private func limits(_ request: AnthropicRequest, into body: inout JSONObject, events: inout [TranslationEvent]) {
        guard let maxTokens = request.maxTokens else { return }
        var tokens = max(1, maxTokens)
        if let limit = self.family.maximumOutputTokens, tokens > limit {
            tokens = limit
            events.append(TranslationEvent(.parameterClamped, "max_tokens \(maxTokens) → \(limit)"))
        }
        body[self.reasoningRules ? "max_completion_tokens" : "max_tokens"] = .number(Double(tokens))
    }

    /// The API takes at most four stop sequences.
    static let maximumStopSequences = 4

    private func sampling(_ request: AnthropicRequest, into body: inout JSONObject, events: inout [TranslationEvent]) throws {
        for (name, value) in [("temperature", request.temperature), ("top_p", request.topP)] {
            guard let value else { continue }
            if self.reasoningRules && value != 1 {
                // OpenAI's reasoning models take only the default; Claude Code's requests must not fail on it.
                events.append(TranslationEvent(.parameterClamped, "\(name) \(value) dropped: \(self.model) takes only the default"))
                continue
            }
            body[name] = .number(value)
        }
        if request.topK != nil {
            events.append(TranslationEvent(.parameterClamped, "top_k dropped: the Chat Completions API has none"))
        }
        guard let stops = request.stopSequences, !stops.isEmpty else { return }
        if self.reasoningRules {
            events.append(TranslationEvent(.parameterClamped, "stop_sequences dropped: \(self.model) takes none"))
            return
        }
        if stops.count > Self.maximumStopSequences {
            guard self.dropParams else {
                throw AnthropicError.invalidRequest(
                    "stop_sequences: the Chat Completions API accepts at most \(Self.maximumStopSequences); got \(stops.count) "
                        + "(set litellm_settings.drop_params to keep the first \(Self.maximumStopSequences))"
                )
            }
            events.append(TranslationEvent(.parameterClamped, "stop_sequences \(stops.count) → \(Self.maximumStopSequences)"))
        }
        body["stop"] = .array(stops.prefix(Self.maximumStopSequences).map { .string($0) })
    }

    /// Declares the client's tools as functions; returns their names.
    private func tools(_ request: AnthropicRequest, into body: inout JSONObject, events: inout [TranslationEvent]) throws
        -> Set<String>
    {
        var declared: [String] = []
        var functions: [JSONValue] = []
        for tool in request.tools ?? [] {
            if let type = tool.type, type != "custom" {
                events.append(TranslationEvent(.contentDropped, "server tool \(type)"))
                continue
            }
            var function: JSONObject = ["name": .string(tool.name)]
            if let description = tool.description { function["description"] = .string(description) }
            function["parameters"] = Self.parameters(tool.inputSchema, tool: tool.name, events: &events)
            functions.append(.object(["type": .string("function"), "function": .object(function)]))
            declared.append(tool.name)
        }
        guard !functions.isEmpty else { return [] }
        body["tools"] = .array(functions)
        if let choice = request.toolChoice {
            switch choice["type"]?.stringValue {
            case "auto": body["tool_choice"] = .string("auto")
            case "any": body["tool_choice"] = .string("required")
            case "none": body["tool_choice"] = .string("none")
            case "tool":
                guard let name = choice["name"]?.stringValue, declared.contains(name) else {
                    throw AnthropicError.invalidRequest("tool_choice.name: must name one of the tools")
                }
                body["tool_choice"] = .object(["type": .string("function"), "function": .object(["name": .string(name)])])
            default:
                throw AnthropicError.invalidRequest("tool_choice.type: expected auto, any, tool or none")
            }
            if choice["disable_parallel_tool_use"] == .bool(true) { body["parallel_tool_calls"] = .bool(false) }
        }
        return Set(declared)
    }

    /// The function's JSON schema, which the API wants to describe an object; anything else is replaced by
    /// an empty object schema, counted.
    private static func parameters(_ schema: JSONValue?, tool: String, events: inout [TranslationEvent]) -> JSONValue {
        guard case .object(var fields)? = schema else {
            if schema != nil { events.append(TranslationEvent(.schemaRejected, "\(tool): not an object schema")) }
            return .object(["type": .string("object"), "properties": .object([:])])
        }
        switch fields["type"] {
        case .string("object")?:
            return .object(fields)
        case nil where fields["properties"] != nil:
            fields["type"] = .string("object")
            events.append(TranslationEvent(.schemaRewritten, "\(tool): type object added"))
            return .object(fields)
        default:
            events.append(TranslationEvent(.schemaRejected, "\(tool): not an object schema"))
            return .object(["type": .string("object"), "properties": .object([:])])
        }
    }
}
