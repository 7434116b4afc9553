/// Conversation content as Gemini takes it in requests and gives it back in responses: written
/// with ``JSONWriter``, read from a parsed ``JSONValue``.
struct GeminiContent: Sendable, Equatable {
    /// `user` or `model`; Gemini has no other roles.
    var role: String?
    var parts: [GeminiPart]
}

/// A part holds exactly one of text, inline data, file data, a function call or a function response;
/// `thought` and `thoughtSignature` modify it.
struct GeminiPart: Sendable, Equatable {
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

struct GeminiBlob: Sendable, Equatable {
    var mimeType: String
    var data: String
}

struct GeminiFileData: Sendable, Equatable {
    var mimeType: String
    var fileUri: String
}

struct GeminiFunctionCall: Sendable, Equatable {
    var id: String?
    var name: String
    var args: JSONValue?
}

struct GeminiFunctionResponse: Sendable, Equatable {
    var name: String
    /// Always a JSON object: `{"output": …}` or `{"error": …}`.
    var response: JSONValue
    /// Images and PDFs a tool returned (Gemini 3 takes them inside the response).
    var parts: [GeminiFunctionResponsePart]?
}

/// Media inside a function response. Inline bytes only: the Gemini API takes neither text (that goes in
/// `response`) nor file references here.
struct GeminiFunctionResponsePart: Sendable, Equatable {
    var inlineData: GeminiBlob
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

extension GeminiFunctionResponsePart: JSONWritable {
    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("inlineData", self.inlineData)
        }
    }
}

extension GeminiContent: JSONReadable {
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.role = try fields.optional("role")
        self.parts = try fields.optional("parts") ?? []
    }
}

extension GeminiPart: JSONReadable {
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.init(
            text: try fields.optional("text"),
            inlineData: try fields.optional("inlineData"),
            fileData: try fields.optional("fileData"),
            functionCall: try fields.optional("functionCall"),
            functionResponse: try fields.optional("functionResponse"),
            thought: try fields.optional("thought"),
            thoughtSignature: try fields.optional("thoughtSignature")
        )
    }
}

extension GeminiBlob: JSONReadable {
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.mimeType = try fields.required("mimeType")
        self.data = try fields.required("data")
    }
}

extension GeminiFileData: JSONReadable {
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.mimeType = try fields.required("mimeType")
        self.fileUri = try fields.required("fileUri")
    }
}

extension GeminiFunctionCall: JSONReadable {
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.id = try fields.optional("id")
        self.name = try fields.required("name")
        self.args = try fields.optional("args")
    }
}

extension GeminiFunctionResponse: JSONReadable {
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.name = try fields.required("name")
        self.response = try fields.required("response")
        self.parts = try fields.optional("parts")
    }
}

extension GeminiFunctionResponsePart: JSONReadable {
    init(json: JSONValue) throws {
        let fields = try JSONObjectReader(json)
        self.inlineData = try fields.required("inlineData")
    }
}
