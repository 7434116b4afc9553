/// Anthropic Messages request → Gemini `generateContent` request.
///
/// Rules (shared/reference/wire.md §B, §F): the system prompt goes to `systemInstruction` without
/// Claude Code's billing line; mid-conversation system messages become user text; tool results become
/// `functionResponse`s named after their `tool_use`, grouped in the user content right after the
/// calls; no empty text part and no empty content is ever sent; Gemini 3 calls carry their thought
/// signatures back byte-exact.
struct GeminiRequestTranslator {
    let model: String
    let family: GeminiModelFamily
    let dropParams: Bool
    let signatures: ThoughtSignatures

    /// `family` overrides what the model id says (a deployment's `model_info.base_model`).
    init(model: String, family: GeminiModelFamily? = nil, dropParams: Bool, signatures: ThoughtSignatures) {
        self.model = model
        self.family = family ?? GeminiModelFamily(model: model)
        self.dropParams = dropParams
        self.signatures = signatures
    }

    struct Translation {
        var request: GeminiRequest
        var events: [TranslationEvent]
        /// The client's web search tool, which Google Search grounding stands in for.
        var webSearch: WebSearchOptions?
    }

    func translate(_ request: AnthropicRequest) throws -> Translation {
        var events: [TranslationEvent] = []
        var contents = self.contents(of: request, events: &events)
        if let last = contents.last, last.role == "model" {
            // Gemini wants the conversation to end with the user; an assistant prefill cannot be honoured.
            contents.removeLast()
            events.append(TranslationEvent(.contentDropped, "trailing assistant prefill"))
        }
        guard !contents.isEmpty else {
            throw AnthropicError.invalidRequest("messages: at least one message with content is required")
        }
        self.attachSignatures(to: &contents, events: &events)

        var tools: [GeminiTool]?
        var declared: [String] = []
        var webSearch: (name: String, options: WebSearchOptions)?
        if let anthropicTools = request.tools, !anthropicTools.isEmpty {
            var declarations: [GeminiFunctionDeclaration] = []
            for tool in anthropicTools {
                if let options = tool.webSearch {
                    webSearch = (tool.name, options)
                    continue
                }
                if let type = tool.type, type != "custom" {
                    events.append(TranslationEvent(.contentDropped, "server tool \(type)"))
                    continue
                }
                let conversion = GeminiSchemaConverter.convert(tool.inputSchema)
                if let note = conversion.note(forTool: tool.name) { events.append(note) }
                declarations.append(
                    GeminiFunctionDeclaration(
                        name: tool.name, description: tool.description, parametersJsonSchema: conversion.schema
                    )
                )
                declared.append(tool.name)
            }
            if !declarations.isEmpty { tools = [.functionDeclarations(declarations)] }
        }
        if let webSearch {
            try self.checkSearchCombines(declared: declared)
            tools = (tools ?? []) + [.googleSearch]
            events += Self.notes(on: webSearch.options)
        }

        return Translation(
            request: GeminiRequest(
                contents: contents,
                systemInstruction: Self.systemInstruction(request.system),
                tools: tools,
                toolConfig: try self.toolConfig(
                    request.toolChoice, declared: declared, webSearch: webSearch?.name, events: &events
                ),
                generationConfig: try self.generationConfig(request, events: &events)
            ),
            events: events,
            webSearch: webSearch?.options
        )
    }

    /// The request as `countTokens` wants it: contents, system prompt and tools, in the upstream's `shape`.
    func countTokensRequest(_ request: AnthropicRequest, shape: GeminiCountTokensRequest.Shape) throws
        -> GeminiCountTokensRequest
    {
        let translation = try self.translate(request)
        return GeminiCountTokensRequest(
            shape: shape,
            contents: translation.request.contents,
            systemInstruction: translation.request.systemInstruction,
            tools: translation.request.tools
        )
    }

    // MARK: - System

    static let billingHeaderPrefix = "x-anthropic-billing-header:"

    static func systemInstruction(_ system: SystemPrompt?) -> GeminiContent? {
        let parts = (system?.blocks ?? [])
            .filter { !$0.hasPrefix(Self.billingHeaderPrefix) && !$0.isEmpty }
            .map { GeminiPart(text: $0) }
        return parts.isEmpty ? nil : GeminiContent(role: nil, parts: parts)
    }

    // MARK: - Messages

    private func contents(of request: AnthropicRequest, events: inout [TranslationEvent]) -> [GeminiContent] {
        var toolNames: [String: String] = [:]  // tool_use id → name, for the results that follow
        var contents: [GeminiContent] = []
        for message in request.messages {
            let role = message.role == .assistant ? "model" : "user"
            var parts: [GeminiPart] = []
            for block in message.content {
                parts += self.parts(
                    for: block,
                    role: message.role,
                    toolNames: &toolNames,
                    events: &events
                )
            }
            guard !parts.isEmpty else { continue }
            if let last = contents.last, last.role == role {
                contents[contents.count - 1].parts = Self.ordered(last.parts + parts)
            } else {
                contents.append(GeminiContent(role: role, parts: Self.ordered(parts)))
            }
        }
        return contents
    }

    /// Function responses first: they must directly answer the calls of the content before.
    private static func ordered(_ parts: [GeminiPart]) -> [GeminiPart] {
        parts.filter { $0.functionResponse != nil } + parts.filter { $0.functionResponse == nil }
    }

    private func parts(
        for block: AnthropicContentBlock,
        role: AnthropicMessage.Role,
        toolNames: inout [String: String],
        events: inout [TranslationEvent]
    ) -> [GeminiPart] {
        switch block {
        case .text(let text):
            guard !text.isEmpty else { return [] }
            return [GeminiPart(text: role == .system ? "<system-reminder>\n\(text)\n</system-reminder>" : text)]
        case .image(let source), .document(let source):
            return Self.mediaParts(source).map { [$0] } ?? {
                events.append(TranslationEvent(.contentDropped, "unsupported media source"))
                return []
            }()
        case .toolUse(let id, let name, let input):
            toolNames[id] = name
            var arguments = input
            if case .object = input {} else {
                arguments = .object(["value": input])
                events.append(TranslationEvent(.argumentsNotObject, name))
            }
            // The call keeps its tool-use id until attachSignatures has looked up its signature.
            return [GeminiPart(functionCall: GeminiFunctionCall(id: id, name: name, args: arguments))]
        case .toolResult(let toolUseID, let content, let isError):
            let result = Self.toolResultContent(content)
            guard let name = toolNames[toolUseID] else {
                events.append(TranslationEvent(.resultWithoutCall, toolUseID))
                let label = isError ? "Tool error" : "Tool result"
                let media = result.blobs.map { GeminiPart(inlineData: $0) } + result.files
                guard !result.text.isEmpty else { return media }
                return [GeminiPart(text: "\(label) (\(toolUseID)): \(result.text)")] + media
            }
            // Text, a text document's included, goes in the response object: Gemini 3 refuses a text part
            // inside `functionResponse.parts`, which takes inline bytes only.
            let response: JSONValue = .object([isError ? "error" : "output": .string(result.text)])
            var functionResponse = GeminiFunctionResponse(name: name, response: response, parts: nil)
            var following = result.files
            if case .gemini3 = self.family, !result.blobs.isEmpty {
                functionResponse.parts = result.blobs.map { GeminiFunctionResponsePart(inlineData: $0) }
            } else {
                // Older models take a tool's media as parts of their own after the responses.
                following = result.blobs.map { GeminiPart(inlineData: $0) } + following
            }
            return [GeminiPart(functionResponse: functionResponse)] + following
        case .thinking, .redactedThinking:
            return []  // Gemini does not need its thought summaries back
        case .other("server_tool_use", let raw), .other("web_search_tool_result", let raw):
            // A search Gemini ran earlier (or Anthropic did): Gemini takes no search results as input, so the
            // model keeps what was searched and found as text in its own turn.
            return Self.searchHistoryText(raw).map { [GeminiPart(text: $0)] } ?? []
        case .other(let type, _):
            events.append(TranslationEvent(.contentDropped, "block type \(type)"))
            return []
        }
    }

    /// A tool result's content as Gemini takes it: its text blocks and text documents as one text, its
    /// base64 images and PDFs as blobs, and files given by URL.
    private static func toolResultContent(
        _ content: [AnthropicContentBlock]
    ) -> (text: String, blobs: [GeminiBlob], files: [GeminiPart]) {
        var texts: [String] = []
        var blobs: [GeminiBlob] = []
        var files: [GeminiPart] = []
        for block in content {
            switch block {
            case .text(let text) where !text.isEmpty:
                texts.append(text)
            case .image(let source), .document(let source):
                guard let part = Self.mediaParts(source) else { continue }
                if let text = part.text {
                    texts.append(text)
                } else if let blob = part.inlineData {
                    blobs.append(blob)
                } else {
                    files.append(part)
                }
            default:
                continue
            }
        }
        return (texts.joined(separator: "\n"), blobs, files)
    }

    private static func mediaParts(_ source: JSONValue) -> GeminiPart? {
        switch source["type"]?.stringValue {
        case "base64":
            guard let data = source["data"]?.stringValue, let mime = source["media_type"]?.stringValue else { return nil }
            return GeminiPart(inlineData: GeminiBlob(mimeType: mime, data: data))
        case "url":
            guard let url = source["url"]?.stringValue else { return nil }
            return GeminiPart(fileData: GeminiFileData(mimeType: Self.mimeType(forURL: url), fileUri: url))
        case "text":
            guard let data = source["data"]?.stringValue, !data.isEmpty else { return nil }
            return GeminiPart(text: data)
        case "content":
            guard case .array(let blocks) = source["content"] else { return nil }
            let text = blocks.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
            return text.isEmpty ? nil : GeminiPart(text: text)
        default:
            return nil
        }
    }

    private static func mimeType(forURL url: String) -> String {
        let path = url.lowercased().prefix { $0 != "?" }
        if path.hasSuffix(".pdf") { return "application/pdf" }
        if path.hasSuffix(".png") { return "image/png" }
        if path.hasSuffix(".gif") { return "image/gif" }
        if path.hasSuffix(".webp") { return "image/webp" }
        return "image/jpeg"
    }

    // MARK: - Thought signatures

    /// Gives each call the signature Gemini gave it, found from its tool-use id, then drops the id (the
    /// Gemini API pairs calls and responses by order and name). On Gemini 3 the first call of every
    /// model step in the current turn must carry a signature: when none is known, the documented dummy
    /// goes there, counted.
    private func attachSignatures(to contents: inout [GeminiContent], events: inout [TranslationEvent]) {
        // A user content that answers calls never starts the turn here, whatever follows its responses (a
        // tool's files, Claude Code's reminders): should Gemini see it otherwise, a dummy too many is harmless.
        let turnStart = contents.lastIndex { content in
            content.role == "user" && !content.parts.contains { $0.functionResponse != nil }
                && content.parts.contains { $0.text != nil || $0.inlineData != nil || $0.fileData != nil }
        } ?? 0
        for contentIndex in contents.indices where contents[contentIndex].role == "model" {
            var isFirstCall = true
            for partIndex in contents[contentIndex].parts.indices {
                guard let functionCall = contents[contentIndex].parts[partIndex].functionCall else { continue }
                let toolUseID = functionCall.id ?? ""
                contents[contentIndex].parts[partIndex].functionCall?.id = nil
                var signature = self.signatures.signature(for: toolUseID)
                let mustHaveOne = self.family.validatesThoughtSignatures && isFirstCall && contentIndex > turnStart
                if signature == nil && mustHaveOne {
                    signature = ThoughtSignatures.dummy
                    events.append(TranslationEvent(.signatureFallback, functionCall.name))
                }
                contents[contentIndex].parts[partIndex].thoughtSignature = signature
                isFirstCall = false
            }
        }
    }

    // MARK: - Web search

    /// Google Search grounding stands in for Anthropic's web search tool. Where the model cannot ground
    /// and call functions in one request, that is a 400 naming the model, never a search silently left out.
    private func checkSearchCombines(declared: [String]) throws {
        guard !declared.isEmpty, !self.family.combinesSearchWithFunctions else { return }
        let names = declared.prefix(3).joined(separator: ", ") + (declared.count > 3 ? ", …" : "")
        throw AnthropicError.invalidRequest(
            "tools: \(self.model) cannot combine web search (Google Search grounding) with function tools (\(names)); "
                + "Gemini 3 models can. Route this request to a Gemini 3 model, or send web_search without other tools"
        )
    }

    /// What of the tool's options the Gemini API cannot take: it searches without filters, so the gateway
    /// filters the sources it lists instead, and it has no user location.
    private static func notes(on search: WebSearchOptions) -> [TranslationEvent] {
        var notes: [TranslationEvent] = []
        for (name, domains) in [("allowed_domains", search.allowedDomains), ("blocked_domains", search.blockedDomains)]
        where domains != nil {
            notes.append(TranslationEvent(.parameterClamped, "web_search \(name): applied to the listed sources only"))
        }
        if search.userLocation != nil {
            notes.append(TranslationEvent(.contentDropped, "web_search user_location"))
        }
        return notes
    }

    /// `server_tool_use` → the query; `web_search_tool_result` → its sources, one per line, or its error.
    private static func searchHistoryText(_ block: JSONValue) -> String? {
        if let query = block["input"]?["query"]?.stringValue {
            return "Searched the web for: \(query)"
        }
        switch block["content"] {
        case .array(let results)?:
            let lines = results.compactMap { result -> String? in
                guard let url = result["url"]?.stringValue else { return nil }
                return "- \(result["title"]?.stringValue ?? url) <\(url)>"
            }
            guard !lines.isEmpty else { return "The web search found nothing." }
            return "Web search results:\n" + lines.joined(separator: "\n")
        case let content?:
            return content["error_code"]?.stringValue.map { "The web search failed: \($0)" }
        case nil:
            return nil
        }
    }

    // MARK: - Configuration

    /// `webSearch` is the name of the client's web search tool, when it sent one.
    private func toolConfig(
        _ choice: JSONValue?,
        declared: [String],
        webSearch: String?,
        events: inout [TranslationEvent]
    ) throws -> GeminiToolConfig? {
        var config: GeminiToolConfig?
        if let choice, choice["type"]?.stringValue == "tool", let webSearch, choice["name"]?.stringValue == webSearch {
            // Gemini decides by itself when to search; nothing forces it.
            events.append(TranslationEvent(.parameterClamped, "tool_choice \(webSearch) → auto"))
        } else {
            let calling = try self.functionCallingConfig(choice, declared: declared)
            config = calling.map { GeminiToolConfig(functionCallingConfig: $0) }
        }
        if webSearch != nil && !declared.isEmpty {
            config = config ?? GeminiToolConfig()
            config?.includeServerSideToolInvocations = true
        }
        return config
    }

    private func functionCallingConfig(
        _ choice: JSONValue?,
        declared: [String]
    ) throws -> GeminiToolConfig.FunctionCallingConfig? {
        guard let choice, !declared.isEmpty, let type = choice["type"]?.stringValue else { return nil }
        switch type {
        case "auto": return .init(mode: "AUTO")
        case "any": return .init(mode: "ANY")
        case "none": return .init(mode: "NONE")
        case "tool":
            guard let name = choice["name"]?.stringValue, declared.contains(name) else {
                throw AnthropicError.invalidRequest("tool_choice.name: must name one of the tools")
            }
            return .init(mode: "ANY", allowedFunctionNames: [name])
        default:
            throw AnthropicError.invalidRequest("tool_choice.type: expected auto, any, tool or none")
        }
    }

    /// Gemini takes at most this many stop sequences.
    static let maximumStopSequences = 5

    private func generationConfig(_ request: AnthropicRequest, events: inout [TranslationEvent]) throws -> GeminiGenerationConfig? {
        var config = GeminiGenerationConfig()
        if let maxTokens = request.maxTokens {
            var tokens = max(1, maxTokens)
            if let limit = self.family.maximumOutputTokens, tokens > limit {
                tokens = limit
                events.append(TranslationEvent(.parameterClamped, "max_tokens \(maxTokens) → \(limit)"))
            }
            config.maxOutputTokens = tokens
        }
        config.temperature = request.temperature
        config.topP = request.topP
        config.topK = request.topK
        if let stops = request.stopSequences, !stops.isEmpty {
            if stops.count > Self.maximumStopSequences {
                guard self.dropParams else {
                    throw AnthropicError.invalidRequest(
                        "stop_sequences: Gemini accepts at most \(Self.maximumStopSequences); got \(stops.count) (set litellm_settings.drop_params to keep the first \(Self.maximumStopSequences))"
                    )
                }
                events.append(TranslationEvent(.parameterClamped, "stop_sequences \(stops.count) → \(Self.maximumStopSequences)"))
            }
            config.stopSequences = Array(stops.prefix(Self.maximumStopSequences))
        }
        if let format = request.outputConfig?["format"], format["type"]?.stringValue == "json_schema" {
            config.responseMimeType = "application/json"
            if let schema = format["schema"] {
                config.responseJsonSchema = GeminiSchemaConverter.convert(schema).schema
            }
        }
        config.thinkingConfig = self.family.thinkingConfig(
            thinking: request.thinking,
            effort: request.outputConfig?["effort"]?.stringValue
        )
        return config.isEmpty ? nil : config
    }
}
