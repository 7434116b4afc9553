import Foundation

/// Checks a Gemini `generateContent` request body, as `JSONSerialization` decodes it, the way the
/// Gemini API does (wire.md §B), and names the first violation in the service's own wording where that
/// wording is known. It stands apart from `FakeGeminiServer` so that every rule can be tested without a
/// socket; the server only tells it which thought signatures it has issued.
///
/// Field names are checked in their canonical camelCase only: the real service also takes snake_case,
/// but Switchboard has no reason to send it.
public struct GeminiRequestValidator {
    public enum Purpose: Sendable {
        /// `generateContent` and `streamGenerateContent`: every rule.
        case generateContent
        /// `countTokens` generates nothing, so neither how the conversation ends nor its thought
        /// signatures matter.
        case countTokens
    }

    /// The values the thought-signature docs accept in place of a real signature, for calls the model
    /// never made (history from another model, injected calls).
    public static let dummySignatures: Set<String> = ["skip_thought_signature_validator", "context_engineering_is_the_way_to_go"]

    public let model: String
    public let purpose: Purpose
    private let isIssuedSignature: (String) -> Bool

    /// `model` is the bare id from the URL (`gemini-2.5-flash`); `isIssuedSignature` says whether the
    /// server handed out a thought signature, byte for byte.
    public init(model: String, purpose: Purpose = .generateContent, isIssuedSignature: @escaping (String) -> Bool = { _ in false }) {
        self.model = model
        self.purpose = purpose
        self.isIssuedSignature = isIssuedSignature
    }

    /// Nil when the service would accept `body`, else the message of its 400 INVALID_ARGUMENT.
    public func validate(_ body: [String: Any]) -> String? {
        do throws(Invalid) {
            try self.check(body)
        } catch {
            return error.message
        }
        return nil
    }

    // MARK: - Request

    private struct Invalid: Error {
        let message: String

        init(_ message: String) {
            self.message = message
        }
    }

    private static let requestFields: Set<String> = [
        "contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings", "cachedContent",
    ]

    private func check(_ body: [String: Any]) throws(Invalid) {
        let body = Self.present(body)
        try Self.allowOnly(Self.requestFields, in: body, at: nil)
        let contents = try self.checkContents(body["contents"])
        if let system = body["systemInstruction"] { try Self.checkSystemInstruction(system) }
        var declared: Set<String> = []
        var searches = false
        if let tools = body["tools"] { (declared, searches) = try Self.checkTools(tools) }
        var circulates = false
        if let toolConfig = body["toolConfig"] { circulates = try Self.checkToolConfig(toolConfig, declared: declared) }
        try self.checkToolCombination(searches: searches, functions: !declared.isEmpty, circulates: circulates)
        if let config = body["generationConfig"] { try self.checkGenerationConfig(config) }
        if let settings = body["safetySettings"] { try Self.checkSafetySettings(settings) }
        if let cached = body["cachedContent"], !(cached is String) {
            throw Self.invalidValue(at: "cached_content", expected: "TYPE_STRING", cached)
        }
        try Self.checkFunctionTurns(contents)
        guard self.purpose == .generateContent else { return }
        guard contents.last?.role == "user" else {
            throw Invalid("Please ensure that multiturn requests end with a user role or a function response.")
        }
        if self.model.hasPrefix("gemini-3") { try self.checkThoughtSignatures(contents) }
    }

    // MARK: - Contents

    /// What the pairing and signature rules need to know of a content once its parts are valid.
    private struct Content {
        let role: String
        let parts: [Part]

        var callNames: [String] { self.parts.compactMap(\.callName) }
        var responseNames: [String] { self.parts.compactMap(\.responseName) }
        var hasText: Bool { self.parts.contains { $0.kind == .text } }
    }

    private struct Part {
        enum Kind: Equatable {
            case text
            case media
            case functionCall(String)
            case functionResponse(String)
        }

        let kind: Kind
        let signature: String?

        var callName: String? {
            if case .functionCall(let name) = self.kind { return name }
            return nil
        }

        var responseName: String? {
            if case .functionResponse(let name) = self.kind { return name }
            return nil
        }
    }

    private static let emptyText = Invalid(
        "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again."
    )

    private func checkContents(_ value: Any?) throws(Invalid) -> [Content] {
        let missing = Invalid("* GenerateContentRequest.contents: contents is not specified")
        guard let value else { throw missing }
        let items = try Self.list(value, at: "contents")
        guard !items.isEmpty else { throw missing }
        var contents: [Content] = []
        for (index, item) in items.enumerated() {
            let path = "contents[\(index)]"
            let fields = try Self.object(item, at: path)
            try Self.allowOnly(["role", "parts"], in: fields, at: path)
            guard let role = fields["role"] as? String, role == "user" || role == "model" else {
                throw Invalid("Please use a valid role: user, model.")
            }
            var rawParts: [Any] = []
            if let parts = fields["parts"] { rawParts = try Self.list(parts, at: "\(path).parts") }
            guard !rawParts.isEmpty else {
                throw Invalid("* GenerateContentRequest.\(path).parts: contents.parts must not be empty.")
            }
            var parts: [Part] = []
            for (partIndex, rawPart) in rawParts.enumerated() {
                parts.append(try self.checkPart(rawPart, at: "\(path).parts[\(partIndex)]", role: role))
            }
            contents.append(Content(role: role, parts: parts))
        }
        return contents
    }

    /// The oneof `data` fields of a Part; the order names the one reported as overwriting.
    private static let dataFields = ["text", "inlineData", "fileData", "functionCall", "functionResponse"]
    private static let partFields = Set(dataFields + ["thought", "thoughtSignature"])

    private func checkPart(_ value: Any, at path: String, role: String) throws(Invalid) -> Part {
        let fields = try Self.object(value, at: path)
        try Self.allowOnly(Self.partFields, in: fields, at: path)
        let data = Self.dataFields.filter { fields[$0] != nil }
        guard data.count <= 1 else {
            throw Invalid(
                "Invalid value at '\(path)' (oneof), oneof field 'data' is already set. Cannot overwrite with '\(Self.snakeCase(data[1]))'."
            )
        }
        if let thought = fields["thought"], thought as? Bool == nil {
            throw Self.invalidValue(at: "\(path).thought", expected: "TYPE_BOOL", thought)
        }
        var signature: String?
        if let rawSignature = fields["thoughtSignature"] {
            guard let text = rawSignature as? String else {
                throw Self.invalidValue(at: "\(path).thought_signature", expected: "TYPE_BYTES", rawSignature)
            }
            guard Self.isBase64(text) else {
                throw Invalid("Invalid value at '\(path).thought_signature' (TYPE_BYTES), Base64 decoding failed for \"\(text)\"")
            }
            signature = text
        }
        let kind: Part.Kind
        if let rawText = fields["text"] {
            guard let text = rawText as? String else {
                throw Self.invalidValue(at: "\(path).text", expected: "TYPE_STRING", rawText)
            }
            // Gemini 3's own closing part is `{"text":"","thoughtSignature":…}`; only that one may be empty.
            guard !text.isEmpty || signature != nil else { throw Self.emptyText }
            kind = .text
        } else if let blob = fields["inlineData"] {
            try Self.checkBlob(blob, at: "\(path).inline_data")
            kind = .media
        } else if let file = fields["fileData"] {
            try Self.checkFileData(file, at: "\(path).file_data")
            kind = .media
        } else if let call = fields["functionCall"] {
            guard role == "model" else {
                throw Invalid("* GenerateContentRequest.\(path).function_call: function calls may only appear in contents with role \"model\".")
            }
            kind = .functionCall(try Self.checkFunctionCall(call, at: "\(path).function_call"))
        } else if let response = fields["functionResponse"] {
            guard role == "user" else {
                throw Invalid(
                    "* GenerateContentRequest.\(path).function_response: function responses may only appear in contents with role \"user\"."
                )
            }
            kind = .functionResponse(try self.checkFunctionResponse(response, at: "\(path).function_response"))
        } else {
            throw Invalid("* GenerateContentRequest.\(path).data: required oneof field 'data' must have one initialized field")
        }
        return Part(kind: kind, signature: signature)
    }

    private static func checkBlob(_ value: Any, at path: String) throws(Invalid) {
        let fields = try object(value, at: path)
        try allowOnly(["mimeType", "data"], in: fields, at: path)
        guard fields["mimeType"] is String else {
            throw Invalid("* GenerateContentRequest.\(path).mime_type: mime_type is not specified")
        }
        guard let data = fields["data"] as? String else {
            throw Invalid("* GenerateContentRequest.\(path).data: data is not specified")
        }
        guard isBase64(data) else {
            throw Invalid("Invalid value at '\(path).data' (TYPE_BYTES), Base64 decoding failed for \"\(data.prefix(40))…\"")
        }
    }

    private static func checkFileData(_ value: Any, at path: String) throws(Invalid) {
        let fields = try object(value, at: path)
        try allowOnly(["mimeType", "fileUri"], in: fields, at: path)
        if let mimeType = fields["mimeType"], !(mimeType is String) {
            throw invalidValue(at: "\(path).mime_type", expected: "TYPE_STRING", mimeType)
        }
        guard let uri = fields["fileUri"] as? String, !uri.isEmpty else {
            throw Invalid("* GenerateContentRequest.\(path).file_uri: file_uri is not specified")
        }
    }

    private static let structType = "type.googleapis.com/google.protobuf.Struct"

    /// Returns the called function's name.
    private static func checkFunctionCall(_ value: Any, at path: String) throws(Invalid) -> String {
        let fields = try object(value, at: path)
        try allowOnly(["name", "args", "id"], in: fields, at: path)
        guard let name = fields["name"] as? String, !name.isEmpty else {
            throw Invalid("* GenerateContentRequest.\(path).name: Name cannot be empty.")
        }
        if let args = fields["args"] { _ = try object(args, at: "\(path).args", expected: structType) }
        if let id = fields["id"], !(id is String) { throw invalidValue(at: "\(path).id", expected: "TYPE_STRING", id) }
        return name
    }

    /// Returns the answered function's name.
    private func checkFunctionResponse(_ value: Any, at path: String) throws(Invalid) -> String {
        let fields = try Self.object(value, at: path)
        try Self.allowOnly(["name", "response", "id", "parts"], in: fields, at: path)
        guard let name = fields["name"] as? String, !name.isEmpty else {
            throw Invalid("* GenerateContentRequest.\(path).name: Name cannot be empty.")
        }
        guard let response = fields["response"] else {
            throw Invalid("* GenerateContentRequest.\(path).response: response is not specified")
        }
        _ = try Self.object(response, at: "\(path).response", expected: Self.structType)
        if let id = fields["id"], !(id is String) { throw Self.invalidValue(at: "\(path).id", expected: "TYPE_STRING", id) }
        guard let rawParts = fields["parts"] else { return name }
        // Multimodal function responses are a Gemini 3 feature; older models want images as separate parts.
        guard self.model.hasPrefix("gemini-3") else {
            throw Invalid("* GenerateContentRequest.\(path).parts: multimodal function responses are not supported by this model.")
        }
        for (index, item) in try Self.list(rawParts, at: "\(path).parts").enumerated() {
            let partPath = "\(path).parts[\(index)]"
            let part = try Self.object(item, at: partPath)
            // A FunctionResponsePart holds inline bytes only: Gemini 3 refuses text here (it belongs in
            // `response`), and the Gemini API supports no file reference here.
            try Self.allowOnly(["inlineData"], in: part, at: partPath)
            guard let blob = part["inlineData"] else {
                throw Invalid("* GenerateContentRequest.\(partPath).data: required oneof field 'data' must have one initialized field")
            }
            try Self.checkBlob(blob, at: "\(partPath).inline_data")
        }
        return name
    }

    /// Calls and responses come in pairs of adjacent contents: all calls of a step in one model content,
    /// all their responses in the next user content.
    private static func checkFunctionTurns(_ contents: [Content]) throws(Invalid) {
        for (index, content) in contents.enumerated() {
            let previous = index > 0 ? contents[index - 1] : nil
            if !content.callNames.isEmpty {
                guard previous?.role == "user" else {
                    throw Invalid("Please ensure that function call turn comes immediately after a user turn or after a function response turn.")
                }
                if index + 1 < contents.count, contents[index + 1].responseNames.count != content.callNames.count {
                    throw Invalid(
                        "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn."
                    )
                }
            }
            guard !content.responseNames.isEmpty else { continue }
            guard let previous, !previous.callNames.isEmpty else {
                throw Invalid("Please ensure that function response turn comes immediately after a function call turn.")
            }
            for name in content.responseNames where !previous.callNames.contains(name) {
                throw Invalid(
                    "* GenerateContentRequest.contents[\(index)]: function response `\(name)` answers no function call of contents[\(index - 1)]."
                )
            }
        }
    }

    /// Gemini 3 checks only the current turn: the steps after the most recent user content with text.
    /// The first call of each step must carry the signature issued with it, or a documented dummy.
    private func checkThoughtSignatures(_ contents: [Content]) throws(Invalid) {
        let turnStart = contents.lastIndex { $0.role == "user" && $0.hasText } ?? -1
        for index in contents.indices where index > turnStart && contents[index].role == "model" {
            guard let first = contents[index].parts.first(where: { $0.callName != nil }), let name = first.callName else { continue }
            guard let signature = first.signature else {
                throw Invalid("Function call `\(name)` in the `\(index + 1).` content block is missing a `thought_signature`.")
            }
            guard Self.dummySignatures.contains(signature) || self.isIssuedSignature(signature) else {
                throw Invalid("Thought signature is not valid.")
            }
        }
    }

    private static func checkSystemInstruction(_ value: Any) throws(Invalid) {
        let path = "system_instruction"
        let fields = try object(value, at: path)
        try allowOnly(["role", "parts"], in: fields, at: path)
        var parts: [Any] = []
        if let rawParts = fields["parts"] { parts = try list(rawParts, at: "\(path).parts") }
        guard !parts.isEmpty else {
            throw Invalid("* GenerateContentRequest.\(path).parts: contents.parts must not be empty.")
        }
        for (index, item) in parts.enumerated() {
            let partPath = "\(path).parts[\(index)]"
            let part = try object(item, at: partPath)
            try allowOnly(partFields, in: part, at: partPath)
            guard let text = part["text"] as? String, part.count == 1 else {
                throw Invalid("* GenerateContentRequest.\(partPath): system instruction parts must hold text only.")
            }
            guard !text.isEmpty else { throw emptyText }
        }
    }

    // MARK: - Tools

    /// Returns the names of the declared functions, and whether Google Search is on.
    private static func checkTools(_ value: Any) throws(Invalid) -> (declared: Set<String>, searches: Bool) {
        var declared: Set<String> = []
        var searches = false
        for (toolIndex, item) in try list(value, at: "tools").enumerated() {
            let path = "tools[\(toolIndex)]"
            let tool = try object(item, at: path)
            try allowOnly(["functionDeclarations", "googleSearch"], in: tool, at: path)
            if let search = tool["googleSearch"] {
                // The Gemini API takes no search options (`excludeDomains` is Vertex-only).
                let options = try object(search, at: "\(path).google_search")
                try allowOnly(["timeRangeFilter"], in: options, at: "\(path).google_search")
                searches = true
            }
            guard let declarations = tool["functionDeclarations"] else { continue }
            for (index, declaration) in try list(declarations, at: "\(path).function_declarations").enumerated() {
                declared.insert(try checkDeclaration(declaration, at: "\(path).function_declarations[\(index)]"))
            }
        }
        return (declared, searches)
    }

    /// Built-in tools and function declarations go together only on Gemini 3, and only with the server's
    /// tool invocations circulated (the messages the service gives, per prism-php/prism#972).
    private func checkToolCombination(searches: Bool, functions: Bool, circulates: Bool) throws(Invalid) {
        if circulates && !self.model.hasPrefix("gemini-3") {
            throw Invalid("Tool call context circulation is not enabled for models/\(self.model)")
        }
        if searches && functions && !circulates {
            throw Invalid(
                "Please enable tool_config.include_server_side_tool_invocations to use built-in tools with function calling."
            )
        }
    }

    /// Returns the declared function's name.
    private static func checkDeclaration(_ value: Any, at path: String) throws(Invalid) -> String {
        let fields = try object(value, at: path)
        try allowOnly(["name", "description", "parameters", "parametersJsonSchema"], in: fields, at: path)
        guard let name = fields["name"] as? String, isFunctionName(name) else {
            throw Invalid(
                "* GenerateContentRequest.\(path).name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 128."
            )
        }
        if let description = fields["description"], !(description is String) {
            throw invalidValue(at: "\(path).description", expected: "TYPE_STRING", description)
        }
        switch (fields["parameters"], fields["parametersJsonSchema"]) {
        case (.some, .some):
            throw Invalid("* GenerateContentRequest.\(path): parameters and parameters_json_schema cannot both be set.")
        case (let parameters?, .none):
            try checkSchema(parameters, at: "\(path).parameters", owner: "`\(name)` functionDeclaration")
        case (.none, let jsonSchema?):
            try checkJSONSchema(jsonSchema, at: "\(path).parameters_json_schema")
        case (.none, .none):
            break
        }
        return name
    }

    /// `^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$`
    private static func isFunctionName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 128 else { return false }
        func isLetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        }
        guard isLetter(first) || first == UInt8(ascii: "_") else { return false }
        return bytes.dropFirst().allSatisfy {
            isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || "_.:-".utf8.contains($0)
        }
    }

    /// The fields of the OpenAPI-subset `Schema` proto that `parameters` accepts on the Gemini API.
    private static let schemaFields: Set<String> = [
        "type", "format", "title", "description", "nullable", "enum", "items", "minItems", "maxItems", "properties",
        "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "minimum", "maximum", "anyOf",
        "propertyOrdering", "default", "example",
    ]
    private static let schemaTypes: Set<String> = ["TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"]

    /// `owner` names what the schema belongs to in the any_of message.
    private static func checkSchema(_ value: Any, at path: String, owner: String) throws(Invalid) {
        let schema = try object(value, at: path)
        try allowOnly(schemaFields, in: schema, at: path)
        if let anyOf = schema["anyOf"] {
            guard schema.count == 1 else {
                throw Invalid(
                    "Unable to submit request because \(owner) `\(path)` schema specified other fields alongside any_of. When using any_of, it must be the only field set."
                )
            }
            for (index, option) in try list(anyOf, at: "\(path).any_of").enumerated() {
                try checkSchema(option, at: "\(path).any_of[\(index)]", owner: owner)
            }
            return
        }
        if let type = schema["type"] {
            if type is [Any] { throw unknownName("type", at: path, reason: "Proto field is not repeating, cannot start list.") }
            guard let name = type as? String, schemaTypes.contains(name.uppercased()) else {
                throw invalidValue(at: "\(path).type", expected: "type.googleapis.com/google.ai.generativelanguage.v1beta.Type", type)
            }
        }
        for key in ["format", "title", "description", "pattern"] {
            if let field = schema[key], !(field is String) { throw invalidValue(at: "\(path).\(key)", expected: "TYPE_STRING", field) }
        }
        if let nullable = schema["nullable"], nullable as? Bool == nil {
            throw invalidValue(at: "\(path).nullable", expected: "TYPE_BOOL", nullable)
        }
        for key in ["minItems", "maxItems", "minProperties", "maxProperties", "minLength", "maxLength"] {
            if let field = schema[key], integer(field) == nil {
                throw invalidValue(at: "\(path).\(snakeCase(key))", expected: "TYPE_INT64", field)
            }
        }
        for key in ["minimum", "maximum"] {
            if let field = schema[key], number(field) == nil { throw invalidValue(at: "\(path).\(key)", expected: "TYPE_DOUBLE", field) }
        }
        if let values = schema["enum"] {
            for (index, value) in try list(values, at: "\(path).enum").enumerated() where !(value is String) {
                throw invalidValue(at: "\(path).enum[\(index)]", expected: "TYPE_STRING", value)
            }
        }
        if let items = schema["items"] { try checkSchema(items, at: "\(path).items", owner: owner) }
        var propertyNames: Set<String> = []
        if let properties = schema["properties"] {
            let map = try object(properties, at: "\(path).properties")
            for (key, property) in map.sorted(by: { $0.key < $1.key }) {
                try checkSchema(property, at: "\(path).properties[\(key)].value", owner: owner)
            }
            propertyNames = Set(map.keys)
        }
        if let required = schema["required"] {
            for (index, value) in try list(required, at: "\(path).required").enumerated() {
                guard let name = value as? String else { throw invalidValue(at: "\(path).required[\(index)]", expected: "TYPE_STRING", value) }
                guard propertyNames.contains(name) else {
                    throw Invalid("* GenerateContentRequest.\(path).required[\(index)]: property is not defined")
                }
            }
        }
        if let ordering = schema["propertyOrdering"] {
            for (index, value) in try list(ordering, at: "\(path).property_ordering").enumerated() where !(value is String) {
                throw invalidValue(at: "\(path).property_ordering[\(index)]", expected: "TYPE_STRING", value)
            }
        }
    }

    /// `parametersJsonSchema` takes JSON Schema as is, recursive definitions included, but not a
    /// `$schema` anywhere; a `$ref` must name a definition under the root's `$defs` (the service reports
    /// any other as undefined) and may have only `description` and `default` beside it.
    private static func checkJSONSchema(_ value: Any, at path: String) throws(Invalid) {
        guard let root = value as? [String: Any] else {
            throw invalidValue(at: path, expected: "type.googleapis.com/google.protobuf.Value (object)", value)
        }
        let definitions = Set((root["$defs"] as? [String: Any] ?? [:]).keys)
        try checkJSONSchemaNode(value, at: path, pointer: [], definitions: definitions)
    }

    private static func checkJSONSchemaNode(
        _ value: Any,
        at path: String,
        pointer: [String],
        definitions: Set<String>
    ) throws(Invalid) {
        if let object = value as? [String: Any] {
            if let reference = object["$ref"] {
                try checkReference(reference, besides: object.keys, at: pointer, definitions: definitions)
            }
            for (key, child) in object.sorted(by: { $0.key < $1.key }) {
                if key == "$schema" {
                    let location = "/" + (pointer + ["$schema"]).joined(separator: "/")
                    throw Invalid(
                        "* GenerateContentRequest.\(path): `$schema` is not supported in parameters_json_schema (at \"\(location)\")."
                    )
                }
                try checkJSONSchemaNode(child, at: path, pointer: pointer + [key], definitions: definitions)
            }
        } else if let array = value as? [Any] {
            for (index, child) in array.enumerated() {
                try checkJSONSchemaNode(child, at: path, pointer: pointer + [String(index)], definitions: definitions)
            }
        }
    }

    private static func checkReference(
        _ reference: Any,
        besides keys: Dictionary<String, Any>.Keys,
        at pointer: [String],
        definitions: Set<String>
    ) throws(Invalid) {
        let prefix = "#/$defs/"
        guard let text = reference as? String, text.hasPrefix(prefix),
            case let name = String(text.dropFirst(prefix.count)).replacing("~1", with: "/").replacing("~0", with: "~"),
            definitions.contains(name)
        else {
            throw Invalid("reference to undefined schema at \(pointer.joined(separator: "."))")
        }
        guard keys.allSatisfy({ ["$ref", "description", "default"].contains($0) }) else {
            throw Invalid(
                "$ref '\(name)' was set alongside unsupported fields. If a schema node has $ref set, then only description and default can be set alongside it"
            )
        }
    }

    private static let callingModes: Set<String> = ["AUTO", "ANY", "NONE", "VALIDATED"]

    /// Returns whether the server's own tool invocations are circulated.
    private static func checkToolConfig(_ value: Any, declared: Set<String>) throws(Invalid) -> Bool {
        let fields = try object(value, at: "tool_config")
        try allowOnly(["functionCallingConfig", "includeServerSideToolInvocations"], in: fields, at: "tool_config")
        var circulates = false
        if let flag = fields["includeServerSideToolInvocations"] {
            guard let value = flag as? Bool else {
                throw invalidValue(at: "tool_config.include_server_side_tool_invocations", expected: "TYPE_BOOL", flag)
            }
            circulates = value
        }
        guard let rawConfig = fields["functionCallingConfig"] else { return circulates }
        let path = "tool_config.function_calling_config"
        let config = try object(rawConfig, at: path)
        try allowOnly(["mode", "allowedFunctionNames"], in: config, at: path)
        var mode = "AUTO"
        if let rawMode = config["mode"] {
            guard let name = rawMode as? String, callingModes.contains(name) else {
                throw invalidValue(
                    at: "\(path).mode", expected: "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode", rawMode
                )
            }
            mode = name
        }
        let constrained = mode == "ANY" || mode == "VALIDATED"
        guard !constrained || !declared.isEmpty else {
            throw Invalid("* GenerateContentRequest.\(path).mode: function calling config is set without function_declarations.")
        }
        guard let rawNames = config["allowedFunctionNames"] else { return circulates }
        let names = try list(rawNames, at: "\(path).allowed_function_names")
        guard !names.isEmpty else { return circulates }
        guard constrained else {
            throw Invalid("* GenerateContentRequest.\(path).allowed_function_names: allowed_function_names may only be set when mode is ANY or VALIDATED.")
        }
        for (index, rawName) in names.enumerated() {
            guard let name = rawName as? String else {
                throw invalidValue(at: "\(path).allowed_function_names[\(index)]", expected: "TYPE_STRING", rawName)
            }
            guard declared.contains(name) else {
                throw Invalid("* GenerateContentRequest.\(path).allowed_function_names[\(index)]: function `\(name)` is not declared in tools.")
            }
        }
        return circulates
    }

    // MARK: - Configuration

    private static let generationFields: Set<String> = [
        "maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "candidateCount", "seed", "presencePenalty",
        "frequencyPenalty", "responseMimeType", "responseSchema", "responseJsonSchema", "thinkingConfig",
    ]

    private func checkGenerationConfig(_ value: Any) throws(Invalid) {
        let path = "generation_config"
        let config = try Self.object(value, at: path)
        try Self.allowOnly(Self.generationFields, in: config, at: path)
        for key in ["maxOutputTokens", "topK", "candidateCount", "seed"] {
            if let field = config[key], Self.integer(field) == nil {
                throw Self.invalidValue(at: "\(path).\(Self.snakeCase(key))", expected: "TYPE_INT32", field)
            }
        }
        for key in ["temperature", "topP", "presencePenalty", "frequencyPenalty"] {
            if let field = config[key], Self.number(field) == nil {
                throw Self.invalidValue(at: "\(path).\(Self.snakeCase(key))", expected: "TYPE_FLOAT", field)
            }
        }
        if let temperature = config["temperature"].flatMap(Self.number), !(0...2).contains(temperature) {
            throw Invalid("* GenerateContentRequest.\(path).temperature: temperature must be between 0 and 2.")
        }
        if let rawStops = config["stopSequences"] {
            let stops = try Self.list(rawStops, at: "\(path).stop_sequences")
            for (index, stop) in stops.enumerated() where !(stop is String) {
                throw Self.invalidValue(at: "\(path).stop_sequences[\(index)]", expected: "TYPE_STRING", stop)
            }
            guard stops.count <= 5 else {
                throw Invalid("* GenerateContentRequest.\(path).stop_sequences: at most 5 stop sequences are allowed, got \(stops.count).")
            }
        }
        if let mimeType = config["responseMimeType"], !(mimeType is String) {
            throw Self.invalidValue(at: "\(path).response_mime_type", expected: "TYPE_STRING", mimeType)
        }
        if let schema = config["responseSchema"] {
            try Self.checkSchema(schema, at: "\(path).response_schema", owner: "generation_config")
        }
        if let thinking = config["thinkingConfig"] { try self.checkThinkingConfig(thinking, at: "\(path).thinking_config") }
    }

    private static let thinkingLevels: Set<String> = ["minimal", "low", "medium", "high"]

    private func checkThinkingConfig(_ value: Any, at path: String) throws(Invalid) {
        let config = try Self.object(value, at: path)
        try Self.allowOnly(["thinkingBudget", "thinkingLevel", "includeThoughts"], in: config, at: path)
        if let include = config["includeThoughts"], include as? Bool == nil {
            throw Self.invalidValue(at: "\(path).include_thoughts", expected: "TYPE_BOOL", include)
        }
        guard config["thinkingBudget"] == nil || config["thinkingLevel"] == nil else {
            throw Invalid("* GenerateContentRequest.\(path): thinking_budget and thinking_level cannot both be set.")
        }
        if let rawLevel = config["thinkingLevel"] {
            guard let level = (rawLevel as? String)?.lowercased(), Self.thinkingLevels.contains(level) else {
                throw Self.invalidValue(
                    at: "\(path).thinking_level", expected: "type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig.ThinkingLevel",
                    rawLevel
                )
            }
            guard !self.model.hasPrefix("gemini-2") else { throw Invalid("Thinking level is not supported for this model.") }
            // Gemini 3.x Pro cannot turn thinking (nearly) off.
            guard !(self.model.hasPrefix("gemini-3") && self.model.contains("pro") && level == "minimal") else {
                throw Invalid("Thinking level MINIMAL is not supported for this model.")
            }
        }
        if let rawBudget = config["thinkingBudget"] {
            guard let budget = Self.integer(rawBudget) else {
                throw Self.invalidValue(at: "\(path).thinking_budget", expected: "TYPE_INT32", rawBudget)
            }
            guard let bounds = Self.budgetBounds(for: self.model), budget != -1 else { return }
            guard bounds.range.contains(budget) || (budget == 0 && bounds.canDisable) else {
                throw Invalid(
                    budget == 0
                        ? "Budget 0 is invalid. This model only works in thinking mode."
                        : "The thinking budget \(budget) is invalid. Please choose a value between \(bounds.range.lowerBound) and \(bounds.range.upperBound)."
                )
            }
        }
    }

    /// The thinking budgets a Gemini 2.5 model takes besides -1 (dynamic), per wire.md §B.8; nil for
    /// models whose budget is not range-checked here.
    private static func budgetBounds(for model: String) -> (range: ClosedRange<Int>, canDisable: Bool)? {
        if model.hasPrefix("gemini-2.5-flash-lite") { return (512...24576, true) }
        if model.hasPrefix("gemini-2.5-flash") { return (0...24576, true) }
        if model.hasPrefix("gemini-2.5-pro") { return (128...32768, false) }
        return nil
    }

    private static func checkSafetySettings(_ value: Any) throws(Invalid) {
        for (index, item) in try list(value, at: "safety_settings").enumerated() {
            let path = "safety_settings[\(index)]"
            let setting = try object(item, at: path)
            try allowOnly(["category", "threshold"], in: setting, at: path)
            for key in ["category", "threshold"] where !(setting[key] is String) {
                throw Invalid("* GenerateContentRequest.\(path).\(key): \(key) is not specified")
            }
        }
    }

    // MARK: - JSON helpers

    /// proto3 JSON reads `null` as "not set", so null fields are dropped before a message is checked.
    private static func present(_ fields: [String: Any]) -> [String: Any] {
        fields.filter { !($0.value is NSNull) }
    }

    private static func object(_ value: Any, at path: String, expected: String = "object") throws(Invalid) -> [String: Any] {
        guard let fields = value as? [String: Any] else { throw invalidValue(at: path, expected: expected, value) }
        return present(fields)
    }

    private static func list(_ value: Any, at path: String) throws(Invalid) -> [Any] {
        guard let items = value as? [Any] else { throw invalidValue(at: path, expected: "list", value) }
        return items
    }

    private static func allowOnly(_ allowed: Set<String>, in fields: [String: Any], at path: String?) throws(Invalid) {
        guard let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) else { return }
        throw unknownName(unknown, at: path)
    }

    private static func unknownName(_ name: String, at path: String?, reason: String = "Cannot find field.") -> Invalid {
        let location = path.map { " at '\($0)'" } ?? ""
        return Invalid("Invalid JSON payload received. Unknown name \"\(name)\"\(location): \(reason)")
    }

    private static func invalidValue(at path: String, expected: String, _ value: Any) -> Invalid {
        Invalid("Invalid value at '\(path)' (\(expected)), \(render(value))")
    }

    private static func render(_ value: Any) -> String {
        let options: JSONSerialization.WritingOptions = [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: options) else { return String(describing: value) }
        return String(decoding: data, as: UTF8.self)
    }

    private static func integer(_ value: Any) -> Int? {
        if let integer = value as? Int { return integer }
        if let double = value as? Double { return Int(exactly: double) }
        // proto3 JSON also takes integers as strings.
        if let text = value as? String { return Int(text) }
        return nil
    }

    private static func number(_ value: Any) -> Double? {
        if let integer = value as? Int { return Double(integer) }
        return value as? Double
    }

    /// Standard or URL-safe base64, padded or not — what a proto3 JSON `bytes` field decodes.
    private static func isBase64(_ text: String) -> Bool {
        let unpadded = text.utf8.reversed().drop(while: { $0 == UInt8(ascii: "=") })
        guard text.utf8.count - unpadded.count <= 2, unpadded.count % 4 != 1 else { return false }
        return unpadded.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "+/-_".utf8.contains(byte)
        }
    }

    private static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
