/// The body of Gemini's `generateContent` / `streamGenerateContent` (v1beta, proto3 JSON names).
///
/// Written with ``JSONWriter`` (field order as declared); the types Gemini also sends back are
/// `Decodable` for its responses.
struct GeminiRequest: Sendable {
    var contents: [GeminiContent]
    var systemInstruction: GeminiContent?
    var tools: [GeminiTool]?
    var toolConfig: GeminiToolConfig?
    var generationConfig: GeminiGenerationConfig?
}

struct GeminiContent: Sendable, Decodable, Equatable {
    /// `user` or `model`; Gemini has no other roles.
    var role: String?
    var parts: [GeminiPart]
}

/// A part holds exactly one of text, inline data, file data, a function call or a function response;
/// `thought` and `thoughtSignature` modify it.
struct GeminiPart: Sendable, Decodable, Equatable {
    var text: String?
    var inlineData: GeminiBlob?
    var fileData: GeminiFileData?
    var functionCall: GeminiFunctionCall?
    var functionResponse: GeminiFunctionResponse?
    var thought: Bool?
    var thoughtSignature: String?

    init(
        text: String? = nil,
        inlineData: GeminiBlob? = nil,
        fileData: GeminiFileData? = nil,
        functionCall: GeminiFunctionCall? = nil,
        functionResponse: GeminiFunctionResponse? = nil,
        thought: Bool? = nil,
        thoughtSignature: String? = nil
    ) {
        self.text = text
        self.inlineData = inlineData
        self.fileData = fileData
        self.functionCall = functionCall
        self.functionResponse = functionResponse
        self.thought = thought
        self.thoughtSignature = thoughtSignature
    }
}

struct GeminiBlob: Sendable, Decodable, Equatable {
    var mimeType: String
    var data: String
}

struct GeminiFileData: Sendable, Decodable, Equatable {
    var mimeType: String
    var fileUri: String
}

struct GeminiFunctionCall: Sendable, Decodable, Equatable {
    var id: String?
    var name: String
    var args: JSONValue?
}

struct GeminiFunctionResponse: Sendable, Decodable, Equatable {
    var name: String
    /// Always a JSON object: `{"output": …}` or `{"error": …}`.
    var response: JSONValue
    /// Images a tool returned (Gemini 3 takes them inside the response).
    var parts: [GeminiPart]?
}

struct GeminiTool: Sendable {
    var functionDeclarations: [GeminiFunctionDeclaration]
}

struct GeminiFunctionDeclaration: Sendable {
    var name: String
    var description: String?
    /// Full JSON Schema (Gemini's `parametersJsonSchema`), not the OpenAPI-subset `parameters`.
    var parametersJsonSchema: JSONValue
}

struct GeminiToolConfig: Sendable {
    struct FunctionCallingConfig: Sendable {
        var mode: String
        var allowedFunctionNames: [String]?
    }

    var functionCallingConfig: FunctionCallingConfig
}

struct GeminiGenerationConfig: Sendable, Equatable {
    var maxOutputTokens: Int?
    var temperature: Double?
    var topP: Double?
    var topK: Int?
    var stopSequences: [String]?
    var responseMimeType: String?
    var responseJsonSchema: JSONValue?
    var thinkingConfig: GeminiThinkingConfig?

    var isEmpty: Bool { self == GeminiGenerationConfig() }
}

struct GeminiThinkingConfig: Sendable, Equatable {
    var thinkingBudget: Int?
    var thinkingLevel: String?
    var includeThoughts: Bool?
}

/// The `countTokens` body: the whole request, so the system prompt and tools are counted too.
struct GeminiCountTokensRequest: Sendable {
    struct Wrapped: Sendable {
        var model: String
        var contents: [GeminiContent]
        var systemInstruction: GeminiContent?
        var tools: [GeminiTool]?
    }

    var generateContentRequest: Wrapped
}

extension GeminiRequest: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("contents", self.contents)
            writer.field("systemInstruction", self.systemInstruction)
            writer.field("tools", self.tools)
            writer.field("toolConfig", self.toolConfig)
            writer.field("generationConfig", self.generationConfig)
        }
    }
}

extension GeminiContent: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("role", self.role)
            writer.field("parts", self.parts)
        }
    }
}

extension GeminiPart: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("text", self.text)
            writer.field("inlineData", self.inlineData)
            writer.field("fileData", self.fileData)
            writer.field("functionCall", self.functionCall)
            writer.field("functionResponse", self.functionResponse)
            writer.field("thought", self.thought)
            writer.field("thoughtSignature", self.thoughtSignature)
        }
    }
}

extension GeminiBlob: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("mimeType", self.mimeType)
            writer.field("data", self.data)
        }
    }
}

extension GeminiFileData: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("mimeType", self.mimeType)
            writer.field("fileUri", self.fileUri)
        }
    }
}

extension GeminiFunctionCall: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("id", self.id)
            writer.field("name", self.name)
            writer.field("args", self.args)
        }
    }
}

extension GeminiFunctionResponse: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("name", self.name)
            writer.field("response", self.response)
            writer.field("parts", self.parts)
        }
    }
}

extension GeminiTool: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("functionDeclarations", self.functionDeclarations)
        }
    }
}

extension GeminiFunctionDeclaration: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("name", self.name)
            writer.field("description", self.description)
            writer.field("parametersJsonSchema", self.parametersJsonSchema)
        }
    }
}

extension GeminiToolConfig: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.key("functionCallingConfig")
            writer.object { writer in
                writer.field("mode", self.functionCallingConfig.mode)
                writer.field("allowedFunctionNames", self.functionCallingConfig.allowedFunctionNames)
            }
        }
    }
}

extension GeminiGenerationConfig: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("maxOutputTokens", self.maxOutputTokens)
            writer.field("temperature", self.temperature)
            writer.field("topP", self.topP)
            writer.field("topK", self.topK)
            writer.field("stopSequences", self.stopSequences)
            writer.field("responseMimeType", self.responseMimeType)
            writer.field("responseJsonSchema", self.responseJsonSchema)
            writer.field("thinkingConfig", self.thinkingConfig)
        }
    }
}

extension GeminiThinkingConfig: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("thinkingBudget", self.thinkingBudget)
            writer.field("thinkingLevel", self.thinkingLevel)
            writer.field("includeThoughts", self.includeThoughts)
        }
    }
}

extension GeminiCountTokensRequest: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.key("generateContentRequest")
            writer.object { writer in
                writer.field("model", self.generateContentRequest.model)
                writer.field("contents", self.generateContentRequest.contents)
                writer.field("systemInstruction", self.generateContentRequest.systemInstruction)
                writer.field("tools", self.generateContentRequest.tools)
            }
        }
    }
}
