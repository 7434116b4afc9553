/// The body of Gemini's `generateContent` / `streamGenerateContent` (v1beta, proto3 JSON names).
/// Written with ``JSONWriter``, fields in the order declared.
struct GeminiRequest: Sendable {
    var contents: [GeminiContent]
    var systemInstruction: GeminiContent?
    var tools: [GeminiTool]?
    var toolConfig: GeminiToolConfig?
    var generationConfig: GeminiGenerationConfig?
}

/// One entry of `tools`: function declarations, or a built-in tool, each in its own entry as Google's
/// SDKs send them.
enum GeminiTool: Sendable {
    case functionDeclarations([GeminiFunctionDeclaration])
    /// Grounding with Google Search (`{"googleSearch": {}}`); the Gemini API takes no options for it
    /// (`excludeDomains` is Vertex-only).
    case googleSearch

    var functionDeclarations: [GeminiFunctionDeclaration] {
        if case .functionDeclarations(let declarations) = self { declarations } else { [] }
    }
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

    var functionCallingConfig: FunctionCallingConfig?
    /// Lets Google Search run in a request that also declares functions (Gemini 3 only): the server's own
    /// tool calls then come back in the content.
    var includeServerSideToolInvocations: Bool?
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
///
/// AI Studio wants it wrapped (`{"generateContentRequest": {"model": "models/…", …}}`); Vertex AI takes
/// the same fields at the top level, without a model (wire.md §C.4).
struct GeminiCountTokensRequest: Sendable {
    enum Shape: Sendable {
        case wrapped(model: String)
        case flat
    }

    var shape: Shape
    var contents: [GeminiContent]
    var systemInstruction: GeminiContent?
    var tools: [GeminiTool]?
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

extension GeminiTool: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            switch self {
            case .functionDeclarations(let declarations):
                writer.field("functionDeclarations", declarations)
            case .googleSearch:
                writer.field("googleSearch", JSONValue.object([:]))
            }
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
            if let config = self.functionCallingConfig {
                writer.key("functionCallingConfig")
                writer.object { writer in
                    writer.field("mode", config.mode)
                    writer.field("allowedFunctionNames", config.allowedFunctionNames)
                }
            }
            writer.field("includeServerSideToolInvocations", self.includeServerSideToolInvocations)
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
            switch self.shape {
            case .wrapped(let model):
                writer.key("generateContentRequest")
                writer.object { writer in
                    writer.field("model", "models/\(model)")
                    self.writeFields(to: &writer)
                }
            case .flat:
                self.writeFields(to: &writer)
            }
        }
    }

    private func writeFields(to writer: inout JSONWriter) {
        writer.field("contents", self.contents)
        writer.field("systemInstruction", self.systemInstruction)
        writer.field("tools", self.tools)
    }
}
