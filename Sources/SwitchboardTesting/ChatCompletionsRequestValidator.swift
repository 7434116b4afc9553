import Foundation

/// Checks an OpenAI Chat Completions request body, as `JSONSerialization` decodes it, the way OpenAI's
/// API does, and names the first violation with OpenAI's `message`, `param` and `code` where that
/// wording is known (wire.md §E and the errors the API is seen to return). It stands apart from
/// ``FakeChatCompletionsServer`` so every rule can be tested without a socket.
///
/// Where OpenAI's wording is not known, or the rule is the fake's own, the message says so by starting
/// with `fake-openai`. The fake's own rules, stricter than OpenAI on purpose:
/// - a streamed request must ask for `stream_options: {"include_usage": true}`: Switchboard promises to,
///   so it always learns the usage;
/// - an assistant's `tool_calls[].function.arguments` must be a JSON object encoded as a string (what
///   Switchboard makes of an Anthropic `tool_use.input`);
/// - a user message's content may not be empty;
/// - `n` must be 1, and the deprecated `functions`, `function_call` and the `function` role are refused:
///   Switchboard translates one choice, with `tools`.
public struct ChatCompletionsRequestValidator: Sendable {
    /// Why the API refuses a request: the `error` object of its 400.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public let param: String?
        public let code: String?
        public var type: String { "invalid_request_error" }

        public init(_ message: String, param: String? = nil, code: String? = nil) {
            self.message = message
            self.param = param
            self.code = code
        }

        public var description: String {
            "\(self.message) (param \(self.param ?? "null"), code \(self.code ?? "null"))"
        }

        /// `{"message", "type", "param", "code"}`, nulls included, as the API sends it.
        public var json: [String: Any] {
            [
                "message": self.message, "type": self.type, "param": self.param ?? NSNull(),
                "code": self.code ?? NSNull(),
            ]
        }
    }

    /// The top-level fields OpenAI documents for Chat Completions; any other is "unrecognized".
    public static let knownFields: Set<String> = [
        "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p",
        "stop", "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort", "response_format", "user",
        "metadata", "n",
        "seed", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs", "store", "service_tier",
        "prediction",
        "modalities", "audio", "logit_bias", "safety_identifier", "prompt_cache_key", "verbosity",
    ]

    /// The model from the Azure deployment in the URL, which then stands for the body's `model`.
    public let deployment: String?

    public init(deployment: String? = nil) {
        self.deployment = deployment
    }

    /// Reasoning models (o1, o3, o4-mini, gpt-5…) take `max_completion_tokens` and `reasoning_effort`,
    /// and only the default sampling.
    public static func isReasoningModel(_ model: String) -> Bool {
        // gpt-5-chat is gpt-5's non-reasoning chat model.
        ["o1", "o3", "o4", "gpt-5"].contains { model.hasPrefix($0) } && !model.hasPrefix("gpt-5-chat")
    }

    /// DeepSeek's thinking models, which want each call's `reasoning_content` back (DeepSeek's thinking-mode
    /// guide: "the API will return a 400 error" otherwise).
    public static func isDeepSeekThinkingModel(_ model: String) -> Bool {
        model.hasPrefix("deepseek-reasoner")
    }

    /// The most completion tokens a model family allows, where the fake knows it.
    static func completionTokenLimit(of model: String) -> Int? {
        if model.hasPrefix("gpt-4o") { return 16_384 }
        if model.hasPrefix("gpt-4.1") { return 32_768 }
        if model.hasPrefix("gpt-5-chat") { return 16_384 }
        if model.hasPrefix("gpt-5") { return 128_000 }
        if ["o1", "o3", "o4"].contains(where: { model.hasPrefix($0) }) { return 100_000 }
        return nil
    }

    /// Nil when the API would accept `body`, else its refusal.
    public func validate(_ body: [String: Any]) -> Refusal? {
        do throws(Refusal) {
            try self.check(body)
        } catch {
            return error
        }
        return nil
    }

    // MARK: - Request

    private func check(_ body: [String: Any]) throws(Refusal) {
        // A field sent as null counts as absent, as it does for the API.
        let body = body.filter { !($0.value is NSNull) }
        if let unknown = body.keys.sorted().first(where: { !Self.knownFields.contains($0) }) {
            throw Refusal("Unrecognized request argument supplied: \(unknown)")
        }
        let model: String
        if let deployment = self.deployment {
            model = deployment
        } else {
            guard let named = body["model"] as? String, !named.isEmpty else {
                throw Refusal("you must provide a model parameter")
            }
            model = named
        }
        let reasoning = Self.isReasoningModel(model)
        let declared = try Self.checkTools(body["tools"])
        try Self.checkMessages(body["messages"])
        if Self.isDeepSeekThinkingModel(model) { try Self.checkReasoningPassedBack(body["messages"]) }
        try Self.checkToolChoice(body["tool_choice"], declared: declared)
        if let parallel = body["parallel_tool_calls"] {
            _ = try Self.boolean(parallel, at: "parallel_tool_calls")
            guard declared != nil else {
                throw Refusal(
                    "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.",
                    param: "parallel_tool_calls"
                )
            }
        }
        try Self.checkStreaming(body)
        try Self.checkLimits(body, model: model, reasoning: reasoning)
        try Self.checkSampling(body, reasoning: reasoning)
        try Self.checkReasoningEffort(body["reasoning_effort"], reasoning: reasoning)
        if let format = body["response_format"] { try Self.checkResponseFormat(format) }
        try Self.checkOtherFields(body)
    }

    /// The fake's own rule: Switchboard promises to ask for the usage of every stream.
    private static func usageRequired(at param: String) -> Refusal {
        Refusal(
            "fake-openai requires 'stream_options': {'include_usage': true} on every streamed request: "
                + "Switchboard promises to ask for usage.",
            param: param
        )
    }

    private static func checkStreaming(_ body: [String: Any]) throws(Refusal) {
        let streamed = try body["stream"].map { value throws(Refusal) in try boolean(value, at: "stream") } ?? false
        guard let rawOptions = body["stream_options"] else {
            if streamed { throw usageRequired(at: "stream_options") }
            return
        }
        guard streamed else {
            throw Refusal(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param: "stream_options"
            )
        }
        let options = try object(rawOptions, at: "stream_options")
        try allowOnly(["include_usage", "include_obfuscation"], in: options, at: "stream_options")
        guard let include = options["include_usage"], try boolean(include, at: "stream_options.include_usage") else {
            throw usageRequired(at: "stream_options.include_usage")
        }
    }

    private static func checkLimits(_ body: [String: Any], model: String, reasoning: Bool) throws(Refusal) {
        if body["max_tokens"] != nil, reasoning {
            throw Refusal(
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                param: "max_tokens",
                code: "unsupported_parameter"
            )
        }
        for name in ["max_tokens", "max_completion_tokens"] {
            guard let value = body[name] else { continue }
            let limit = try integer(value, at: name, minimum: 1)
            if let most = completionTokenLimit(of: model), limit > most {
                throw Refusal(
                    "\(name) is too large: \(limit). This model supports at most \(most) completion tokens, whereas you provided \(limit).",
                    param: name,
                    code: "invalid_value"
                )
            }
        }
        if let stop = body["stop"] {
            if reasoning { throw unsupportedParameter("stop") }
            if !(stop is String) {
                let stops = try list(stop, at: "stop")
                guard stops.count <= 4 else {
                    throw Refusal(
                        "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length \(stops.count) instead.",
                        param: "stop",
                        code: "array_above_max_length"
                    )
                }
                for (index, item) in stops.enumerated() { _ = try string(item, at: "stop[\(index)]") }
            }
        }
    }

    private static func checkSampling(_ body: [String: Any], reasoning: Bool) throws(Refusal) {
        for (name, range) in [("temperature", 0.0...2.0), ("top_p", 0.0...1.0)] {
            guard let raw = body[name] else { continue }
            let value = try number(raw, at: name, range: range)
            guard reasoning, value != 1 else { continue }
            throw Refusal(
                "Unsupported value: '\(name)' does not support \(format(value)) with this model. Only the default (1) value is supported.",
                param: name,
                code: "unsupported_value"
            )
        }
        for name in ["frequency_penalty", "presence_penalty"] {
            guard let raw = body[name] else { continue }
            if reasoning { throw unsupportedParameter(name) }
            _ = try number(raw, at: name, range: -2.0...2.0)
        }
        if let logprobs = body["logprobs"] {
            if reasoning { throw unsupportedParameter("logprobs") }
            _ = try boolean(logprobs, at: "logprobs")
        }
        if let top = body["top_logprobs"] {
            _ = try integer(top, at: "top_logprobs", minimum: 0, maximum: 20)
            guard body["logprobs"] as? Bool == true else {
                throw Refusal(
                    "Invalid value for 'logprobs': must be true when 'top_logprobs' is specified.",
                    param: "logprobs"
                )
            }
        }
    }

    private static let efforts = ["minimal", "low", "medium", "high"]

    private static func checkReasoningEffort(_ value: Any?, reasoning: Bool) throws(Refusal) {
        guard let value else { return }
        guard reasoning else { throw Refusal("Unrecognized request argument supplied: reasoning_effort") }
        let effort = try string(value, at: "reasoning_effort")
        guard efforts.contains(effort) else { throw invalidValue(effort, supported: efforts, at: "reasoning_effort") }
    }

    private static func checkResponseFormat(_ value: Any) throws(Refusal) {
        let format = try object(value, at: "response_format")
        guard let rawType = format["type"] else { throw missing("response_format.type") }
        let type = try string(rawType, at: "response_format.type")
        let types = ["text", "json_object", "json_schema"]
        guard types.contains(type) else { throw invalidValue(type, supported: types, at: "response_format.type") }
        guard type == "json_schema" else {
            try allowOnly(["type"], in: format, at: "response_format")
            return
        }
        try allowOnly(["type", "json_schema"], in: format, at: "response_format")
        guard let rawSchema = format["json_schema"] else { throw missing("response_format.json_schema") }
        let jsonSchema = try object(rawSchema, at: "response_format.json_schema")
        try allowOnly(["name", "description", "schema", "strict"], in: jsonSchema, at: "response_format.json_schema")
        guard let rawName = jsonSchema["name"] else { throw missing("response_format.json_schema.name") }
        try checkName(
            try string(rawName, at: "response_format.json_schema.name"),
            at: "response_format.json_schema.name"
        )
        if let schema = jsonSchema["schema"] { _ = try object(schema, at: "response_format.json_schema.schema") }
        if let strict = jsonSchema["strict"] { _ = try boolean(strict, at: "response_format.json_schema.strict") }
    }

    private static func checkOtherFields(_ body: [String: Any]) throws(Refusal) {
        for name in ["user", "safety_identifier", "prompt_cache_key"] {
            if let value = body[name] { _ = try string(value, at: name) }
        }
        if let n = body["n"], try integer(n, at: "n", minimum: 1, maximum: 128) != 1 {
            throw Refusal("fake-openai answers one choice: Switchboard must not ask for 'n' other than 1.", param: "n")
        }
        if let seed = body["seed"] { _ = try integer(seed, at: "seed") }
        if let store = body["store"] { _ = try boolean(store, at: "store") }
        if let metadata = body["metadata"] {
            let fields = try object(metadata, at: "metadata")
            for key in fields.keys.sorted() { _ = try string(fields[key]!, at: "metadata.\(key)") }
        }
        if let tier = body["service_tier"] {
            let tiers = ["auto", "default", "flex", "scale", "priority"]
            let value = try string(tier, at: "service_tier")
            guard tiers.contains(value) else { throw invalidValue(value, supported: tiers, at: "service_tier") }
        }
        for name in ["prediction", "audio", "logit_bias"] {
            if let value = body[name] { _ = try object(value, at: name) }
        }
        if let modalities = body["modalities"] {
            for (index, item) in try list(modalities, at: "modalities").enumerated() {
                let value = try string(item, at: "modalities[\(index)]")
                guard value == "text" || value == "audio" else {
                    throw invalidValue(value, supported: ["text", "audio"], at: "modalities[\(index)]")
                }
            }
        }
        if let verbosity = body["verbosity"] {
            let value = try string(verbosity, at: "verbosity")
            guard ["low", "medium", "high"].contains(value) else {
                throw invalidValue(value, supported: ["low", "medium", "high"], at: "verbosity")
            }
        }
    }

    // MARK: - Tools

    /// The declared function names, or nil without `tools`.
    private static func checkTools(_ value: Any?) throws(Refusal) -> Set<String>? {
        guard let value else { return nil }
        let tools = try list(value, at: "tools")
        // An empty list declares nothing, so `tool_choice` has nothing to choose from.
        guard !tools.isEmpty else { return nil }
        var names: Set<String> = []
        for (index, item) in tools.enumerated() {
            let path = "tools[\(index)]"
            let tool = try object(item, at: path)
            try allowOnly(["type", "function"], in: tool, at: path)
            guard let rawType = tool["type"] else { throw missing("\(path).type") }
            let type = try string(rawType, at: "\(path).type")
            guard type == "function" else {
                throw invalidValue(type, supported: ["function", "custom"], at: "\(path).type")
            }
            guard let rawFunction = tool["function"] else { throw missing("\(path).function") }
            let function = try object(rawFunction, at: "\(path).function")
            try allowOnly(["name", "description", "parameters", "strict"], in: function, at: "\(path).function")
            guard let rawName = function["name"] else { throw missing("\(path).function.name") }
            let name = try string(rawName, at: "\(path).function.name")
            try checkName(name, at: "\(path).function.name")
            if let description = function["description"] {
                _ = try string(description, at: "\(path).function.description")
            }
            if let strict = function["strict"] { _ = try boolean(strict, at: "\(path).function.strict") }
            if let parameters = function["parameters"] {
                guard let schema = parameters as? [String: Any], let schemaType = schema["type"] as? String,
                    schemaType == "object"
                else {
                    let got = ((parameters as? [String: Any])?["type"]).map { "\($0)" } ?? "None"
                    throw Refusal(
                        "Invalid schema for function '\(name)': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"\(got)\"'.",
                        param: "\(path).function.parameters",
                        code: "invalid_function_parameters"
                    )
                }
            }
            names.insert(name)
        }
        return names
    }

    private static let nameBytes = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".utf8)

    /// A function name: `^[a-zA-Z0-9_-]+$`, at most 64 characters.
    private static func checkName(_ name: String, at path: String) throws(Refusal) {
        guard !name.isEmpty else {
            throw Refusal(
                "Invalid '\(path)': empty string. Expected a string with minimum length 1, but got an empty string instead.",
                param: path,
                code: "empty_string"
            )
        }
        guard name.utf8.allSatisfy(nameBytes.contains) else {
            throw Refusal(
                "Invalid '\(path)': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                param: path,
                code: "invalid_value"
            )
        }
        guard name.count <= 64 else {
            throw Refusal(
                "Invalid '\(path)': string too long. Expected a string with maximum length 64, but got a string with length \(name.count) instead.",
                param: path,
                code: "string_above_max_length"
            )
        }
    }

    private static func checkToolChoice(_ value: Any?, declared: Set<String>?) throws(Refusal) {
        guard let value else { return }
        guard let declared else {
            throw Refusal(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                param: "tool_choice"
            )
        }
        if let mode = value as? String {
            let modes = ["none", "auto", "required"]
            guard modes.contains(mode) else { throw invalidValue(mode, supported: modes, at: "tool_choice") }
            return
        }
        let choice = try object(value, at: "tool_choice")
        try allowOnly(["type", "function"], in: choice, at: "tool_choice")
        guard let rawType = choice["type"] else { throw missing("tool_choice.type") }
        let type = try string(rawType, at: "tool_choice.type")
        guard type == "function" else { throw invalidValue(type, supported: ["function"], at: "tool_choice.type") }
        guard let rawFunction = choice["function"] else { throw missing("tool_choice.function") }
        let function = try object(rawFunction, at: "tool_choice.function")
        try allowOnly(["name"], in: function, at: "tool_choice.function")
        guard let rawName = function["name"] else { throw missing("tool_choice.function.name") }
        let name = try string(rawName, at: "tool_choice.function.name")
        guard declared.contains(name) else {
            throw Refusal(
                "fake-openai: 'tool_choice' names the function '\(name)', which is not among the declared 'tools'.",
                param: "tool_choice.function.name",
                code: "invalid_value"
            )
        }
    }

    // MARK: - Messages

    private static let roles = ["system", "assistant", "user", "function", "tool", "developer"]

    /// The calls of the last assistant message with `tool_calls`, which the tool messages after it answer.
    private struct OpenCalls {
        let assistantIndex: Int
        let ids: Set<String>
        var unanswered: [String]

        /// Refuses the conversation when a message other than a tool's comes while calls are unanswered.
        func close() throws(Refusal) {
            guard !self.unanswered.isEmpty else { return }
            throw Refusal(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    + "'tool_call_id'. The following tool_call_ids did not have response messages: "
                    + self.unanswered.joined(separator: ", "),
                param: "messages.[\(self.assistantIndex)].role"
            )
        }
    }

    private static func checkMessages(_ value: Any?) throws(Refusal) {
        guard let value else { throw missing("messages") }
        let messages = try list(value, at: "messages")
        guard !messages.isEmpty else {
            throw Refusal(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                param: "messages",
                code: "empty_array"
            )
        }
        var open: OpenCalls?
        for (index, item) in messages.enumerated() {
            let path = "messages[\(index)]"
            let message = try object(item, at: path)
            guard let rawRole = message["role"] else { throw missing("\(path).role") }
            let role = try string(rawRole, at: "\(path).role")
            guard roles.contains(role) else { throw invalidValue(role, supported: roles, at: "\(path).role") }
            if role != "tool" {
                try open?.close()
                open = nil
            }
            switch role {
            case "system", "developer":
                try allowOnly(["role", "content", "name"], in: message, at: path)
                try checkContent(message["content"], at: path, parts: ["text"], allowsEmpty: true)
            case "user":
                try allowOnly(["role", "content", "name"], in: message, at: path)
                try checkContent(
                    message["content"],
                    at: path,
                    parts: ["text", "image_url", "file"],
                    allowsEmpty: false
                )
            case "assistant":
                // DeepSeek and vLLM read their reasoning back from `reasoning_content` / `reasoning`.
                let fields: Set = [
                    "role", "content", "name", "tool_calls", "refusal", "audio", "reasoning_content", "reasoning",
                ]
                try allowOnly(fields, in: message, at: path)
                let ids = try checkToolCalls(message["tool_calls"], at: path)
                // Content may be left out, or null, only beside calls.
                if ids.isEmpty || !(message["content"] == nil || message["content"] is NSNull) {
                    try checkContent(message["content"], at: path, parts: ["text", "refusal"], allowsEmpty: true)
                }
                if !ids.isEmpty { open = OpenCalls(assistantIndex: index, ids: Set(ids), unanswered: ids) }
            case "tool":
                try allowOnly(["role", "content", "tool_call_id"], in: message, at: path)
                guard open != nil else {
                    throw Refusal(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                        param: "messages.[\(index)].role"
                    )
                }
                guard let rawID = message["tool_call_id"] else { throw missing("\(path).tool_call_id") }
                let id = try string(rawID, at: "\(path).tool_call_id")
                guard open!.ids.contains(id) else {
                    throw Refusal(
                        "Invalid parameter: 'tool_call_id' of '\(id)' not found in 'tool_calls' of previous message.",
                        param: "messages.[\(index)].tool_call_id"
                    )
                }
                open!.unanswered.removeAll { $0 == id }
                try checkContent(message["content"], at: path, parts: ["text"], allowsEmpty: true)
            default:
                throw Refusal(
                    "Unsupported value: '\(path).role' does not support 'function' with this model.",
                    param: "\(path).role",
                    code: "unsupported_value"
                )
            }
        }
        try open?.close()
    }

    /// DeepSeek's rule for thinking mode: an assistant message that made calls carries its `reasoning_content`.
    private static func checkReasoningPassedBack(_ value: Any?) throws(Refusal) {
        for (index, message) in (value as? [[String: Any]] ?? []).enumerated()
        where message["role"] as? String == "assistant" && message["tool_calls"] is [Any] && !(message["reasoning_content"] is String) {
            throw Refusal(
                "Missing `reasoning_content` field in the assistant message at message index \(index). For more information, "
                    + "please refer to https://api-docs.deepseek.com/guides/thinking_mode#tool-calls",
                code: "invalid_request_error"
            )
        }
    }

    /// A message's content: a string, or a list of parts of the `parts` types.
    private static func checkContent(_ value: Any?, at path: String, parts types: Set<String>, allowsEmpty: Bool)
        throws(Refusal)
    {
        let contentPath = "\(path).content"
        guard let value, !(value is NSNull) else {
            throw Refusal(
                "Invalid value for 'content': expected a string, got null.",
                param: "messages.[\(index(in: path))].content"
            )
        }
        if let text = value as? String {
            guard allowsEmpty || !text.isEmpty else {
                throw Refusal(
                    "fake-openai: Invalid '\(contentPath)': string too short. Expected a string with minimum length 1, but got an empty string instead.",
                    param: contentPath,
                    code: "string_below_min_length"
                )
            }
            return
        }
        let parts = try list(value, at: contentPath)
        guard !parts.isEmpty else {
            throw Refusal(
                "Invalid '\(contentPath)': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                param: contentPath,
                code: "empty_array"
            )
        }
        for (partIndex, item) in parts.enumerated() {
            let partPath = "\(contentPath)[\(partIndex)]"
            let part = try object(item, at: partPath)
            guard let rawType = part["type"] else { throw missing("\(partPath).type") }
            let type = try string(rawType, at: "\(partPath).type")
            guard types.contains(type) else {
                throw invalidValue(
                    type,
                    supported: ["text", "image_url", "input_audio", "refusal", "audio", "file"].filter(types.contains),
                    at: "\(partPath).type"
                )
            }
            try allowOnly(["type", type], in: part, at: partPath)
            guard let payload = part[type] else { throw missing("\(partPath).\(type)") }
            switch type {
            case "text", "refusal":
                _ = try string(payload, at: "\(partPath).\(type)")
            case "image_url":
                try checkImageURL(payload, at: "\(partPath).image_url")
            default:
                try checkFile(payload, at: "\(partPath).file")
            }
        }
    }

    private static func checkImageURL(_ value: Any, at path: String) throws(Refusal) {
        let image = try object(value, at: path)
        try allowOnly(["url", "detail"], in: image, at: path)
        guard let rawURL = image["url"] else { throw missing("\(path).url") }
        let url = try string(rawURL, at: "\(path).url")
        if url.hasPrefix("data:") {
            let mediaType = url.dropFirst("data:".count).prefix { $0 != ";" && $0 != "," }
            guard mediaType.hasPrefix("image/"), url.contains(";base64,") else {
                throw Refusal(
                    "Invalid image URL: '\(path).url'. Expected a base64-encoded data URL with an image MIME type "
                        + "(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got unsupported MIME type '\(mediaType)'.",
                    param: "\(path).url",
                    code: "invalid_value"
                )
            }
        } else if !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            throw Refusal(
                "Invalid '\(path).url'. Expected a valid URL, but got a value with an invalid format.",
                param: "\(path).url",
                code: "invalid_value"
            )
        }
        if let rawDetail = image["detail"] {
            let detail = try string(rawDetail, at: "\(path).detail")
            guard ["auto", "low", "high"].contains(detail) else {
                throw invalidValue(detail, supported: ["auto", "low", "high"], at: "\(path).detail")
            }
        }
    }

    private static func checkFile(_ value: Any, at path: String) throws(Refusal) {
        let file = try object(value, at: path)
        try allowOnly(["file_data", "file_id", "filename"], in: file, at: path)
        guard file["file_data"] != nil || file["file_id"] != nil else { throw missing("\(path).file_data") }
        for key in ["file_data", "file_id", "filename"] {
            if let field = file[key] { _ = try string(field, at: "\(path).\(key)") }
        }
    }

    /// The ids of an assistant message's calls, in order.
    private static func checkToolCalls(_ value: Any?, at path: String) throws(Refusal) -> [String] {
        guard let value, !(value is NSNull) else { return [] }
        let calls = try list(value, at: "\(path).tool_calls")
        guard !calls.isEmpty else {
            throw Refusal(
                "Invalid '\(path).tool_calls': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                param: "\(path).tool_calls",
                code: "empty_array"
            )
        }
        var ids: [String] = []
        for (index, item) in calls.enumerated() {
            let callPath = "\(path).tool_calls[\(index)]"
            let call = try object(item, at: callPath)
            try allowOnly(["id", "type", "function"], in: call, at: callPath)
            guard let rawID = call["id"] else { throw missing("\(callPath).id") }
            ids.append(try string(rawID, at: "\(callPath).id"))
            guard let rawType = call["type"] else { throw missing("\(callPath).type") }
            let type = try string(rawType, at: "\(callPath).type")
            guard type == "function" else {
                throw invalidValue(type, supported: ["function", "custom"], at: "\(callPath).type")
            }
            guard let rawFunction = call["function"] else { throw missing("\(callPath).function") }
            let function = try object(rawFunction, at: "\(callPath).function")
            try allowOnly(["name", "arguments"], in: function, at: "\(callPath).function")
            guard let rawName = function["name"] else { throw missing("\(callPath).function.name") }
            try checkName(try string(rawName, at: "\(callPath).function.name"), at: "\(callPath).function.name")
            guard let rawArguments = function["arguments"] else { throw missing("\(callPath).function.arguments") }
            let arguments = try string(rawArguments, at: "\(callPath).function.arguments")
            guard (try? JSONSerialization.jsonObject(with: Data(arguments.utf8))) is [String: Any] else {
                throw Refusal(
                    "fake-openai: Invalid '\(callPath).function.arguments': expected a JSON object encoded as a string.",
                    param: "\(callPath).function.arguments",
                    code: "invalid_value"
                )
            }
        }
        return ids
    }

    /// The message index in a `messages[N]…` path.
    private static func index(in path: String) -> Int {
        Int(path.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }) ?? 0
    }

    // MARK: - JSON values

    private enum Kind {
        case null, boolean, integer, number, string, array, object

        init(of value: Any) {
            switch value {
            case is NSNull: self = .null
            case is String: self = .string
            case is [Any]: self = .array
            case is [String: Any]: self = .object
            case let number as NSNumber:
                // JSONSerialization gives booleans as NSNumber too; only their type encoding tells them apart.
                let encoding = String(cString: number.objCType)
                if encoding == "c" || encoding == "B" {
                    self = .boolean
                } else if encoding == "d" || encoding == "f" {
                    self = number.doubleValue.rounded() == number.doubleValue ? .integer : .number
                } else {
                    self = .integer
                }
            default: self = .object
            }
        }

        var phrase: String {
            switch self {
            case .null: "null"
            case .boolean: "a boolean"
            case .integer: "an integer"
            case .number: "a decimal"
            case .string: "a string"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    private static func invalidType(_ value: Any, at path: String, expected: String) -> Refusal {
        Refusal(
            "Invalid type for '\(path)': expected \(expected), but got \(Kind(of: value).phrase) instead.",
            param: path,
            code: "invalid_type"
        )
    }

    private static func object(_ value: Any, at path: String) throws(Refusal) -> [String: Any] {
        guard let object = value as? [String: Any] else { throw invalidType(value, at: path, expected: "an object") }
        return object
    }

    private static func list(_ value: Any, at path: String) throws(Refusal) -> [Any] {
        guard let list = value as? [Any] else { throw invalidType(value, at: path, expected: "an array") }
        return list
    }

    private static func string(_ value: Any, at path: String) throws(Refusal) -> String {
        guard let text = value as? String else { throw invalidType(value, at: path, expected: "a string") }
        return text
    }

    private static func boolean(_ value: Any, at path: String) throws(Refusal) -> Bool {
        guard Kind(of: value) == .boolean, let flag = value as? Bool else {
            throw invalidType(value, at: path, expected: "a boolean")
        }
        return flag
    }

    private static func integer(_ value: Any, at path: String, minimum: Int? = nil, maximum: Int? = nil) throws(Refusal)
        -> Int
    {
        guard Kind(of: value) == .integer, let number = (value as? NSNumber)?.intValue else {
            throw invalidType(value, at: path, expected: "an integer")
        }
        if let minimum, number < minimum {
            throw Refusal(
                "Invalid '\(path)': integer below minimum value. Expected a value >= \(minimum), but got \(number) instead.",
                param: path,
                code: "integer_below_min_value"
            )
        }
        if let maximum, number > maximum {
            throw Refusal(
                "Invalid '\(path)': integer above maximum value. Expected a value <= \(maximum), but got \(number) instead.",
                param: path,
                code: "integer_above_max_value"
            )
        }
        return number
    }

    private static func number(_ value: Any, at path: String, range: ClosedRange<Double>) throws(Refusal) -> Double {
        let kind = Kind(of: value)
        guard kind == .integer || kind == .number, let number = (value as? NSNumber)?.doubleValue else {
            throw invalidType(value, at: path, expected: "a decimal")
        }
        if number < range.lowerBound {
            throw Refusal(
                "Invalid '\(path)': decimal below minimum value. Expected a value >= \(format(range.lowerBound)), but got \(format(number)) instead.",
                param: path,
                code: "decimal_below_min_value"
            )
        }
        if number > range.upperBound {
            throw Refusal(
                "Invalid '\(path)': decimal above maximum value. Expected a value <= \(format(range.upperBound)), but got \(format(number)) instead.",
                param: path,
                code: "decimal_above_max_value"
            )
        }
        return number
    }

    /// A number as the API prints it: `1`, `0.5`.
    private static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private static func missing(_ path: String) -> Refusal {
        Refusal("Missing required parameter: '\(path)'.", param: path, code: "missing_required_parameter")
    }

    private static func invalidValue(_ value: String, supported: [String], at path: String) -> Refusal {
        let quoted = supported.map { "'\($0)'" }
        let list: String
        switch quoted.count {
        case 0: list = ""
        case 1: list = quoted[0]
        case 2: list = "\(quoted[0]) and \(quoted[1])"
        default: list = quoted.dropLast().joined(separator: ", ") + ", and " + quoted.last!
        }
        return Refusal("Invalid value: '\(value)'. Supported values are: \(list).", param: path, code: "invalid_value")
    }

    private static func unsupportedParameter(_ name: String) -> Refusal {
        Refusal(
            "Unsupported parameter: '\(name)' is not supported with this model.",
            param: name,
            code: "unsupported_parameter"
        )
    }

    /// Refuses any field of an object inside the request other than `allowed` (a gateway that copies a
    /// stream's `index` into a history `tool_call`, or an Anthropic `cache_control`, gets this).
    private static func allowOnly(_ allowed: Set<String>, in object: [String: Any], at path: String) throws(Refusal) {
        guard let extra = object.keys.sorted().first(where: { !allowed.contains($0) }) else { return }
        throw Refusal("Unknown parameter: '\(path).\(extra)'.", param: "\(path).\(extra)", code: "unknown_parameter")
    }
}
