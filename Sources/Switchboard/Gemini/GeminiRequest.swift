/// The body of Gemini's `generateContent` / `streamGenerateContent` (v1beta, proto3 JSON names).
struct GeminiRequest: Sendable, Encodable {
    var contents: [GeminiContent]
    var systemInstruction: GeminiContent?
    var tools: [GeminiTool]?
    var toolConfig: GeminiToolConfig?
    var generationConfig: GeminiGenerationConfig?
}

struct GeminiContent: Sendable, Codable, Equatable {
    /// `user` or `model`; Gemini has no other roles.
    var role: String?
    var parts: [GeminiPart]
}

/// A part holds exactly one of text, inline data, file data, a function call or a function response;
/// `thought` and `thoughtSignature` modify it.
struct GeminiPart: Sendable, Codable, Equatable {
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

struct GeminiBlob: Sendable, Codable, Equatable {
    var mimeType: String
    var data: String
}

struct GeminiFileData: Sendable, Codable, Equatable {
    var mimeType: String
    var fileUri: String
}

struct GeminiFunctionCall: Sendable, Codable, Equatable {
    var id: String?
    var name: String
    var args: JSONValue?
}

struct GeminiFunctionResponse: Sendable, Codable, Equatable {
    var name: String
    /// Always a JSON object: `{"output": …}` or `{"error": …}`.
    var response: JSONValue
    /// Images a tool returned (Gemini 3 takes them inside the response).
    var parts: [GeminiPart]?
}

struct GeminiTool: Sendable, Encodable {
    var functionDeclarations: [GeminiFunctionDeclaration]
}

struct GeminiFunctionDeclaration: Sendable, Encodable {
    var name: String
    var description: String?
    /// Full JSON Schema (Gemini's `parametersJsonSchema`), not the OpenAPI-subset `parameters`.
    var parametersJsonSchema: JSONValue
}

struct GeminiToolConfig: Sendable, Encodable {
    struct FunctionCallingConfig: Sendable, Encodable {
        var mode: String
        var allowedFunctionNames: [String]?
    }

    var functionCallingConfig: FunctionCallingConfig
}

struct GeminiGenerationConfig: Sendable, Encodable, Equatable {
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

struct GeminiThinkingConfig: Sendable, Encodable, Equatable {
    var thinkingBudget: Int?
    var thinkingLevel: String?
    var includeThoughts: Bool?
}

/// The `countTokens` body: the whole request, so the system prompt and tools are counted too.
struct GeminiCountTokensRequest: Sendable, Encodable {
    struct Wrapped: Sendable, Encodable {
        var model: String
        var contents: [GeminiContent]
        var systemInstruction: GeminiContent?
        var tools: [GeminiTool]?
    }

    var generateContentRequest: Wrapped
}
