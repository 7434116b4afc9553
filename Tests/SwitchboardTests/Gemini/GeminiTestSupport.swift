import Foundation
import NIOCore

@testable import Switchboard

/// Decodes an Anthropic request from JSON text.
func anthropicRequest(_ json: String) throws -> AnthropicRequest {
    try AnthropicRequest(json: JSONValue.parse(json))
}

/// The Gemini request as the JSON object that goes on the wire.
func wireJSON(_ request: GeminiRequest) throws -> [String: Any] {
    var writer = JSONWriter()
    writer.value(request)
    let data = Data(writer.bytes)
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
}

func translator(model: String = "gemini-2.5-flash", dropParams: Bool = false, signatures: ThoughtSignatures = ThoughtSignatures())
    -> GeminiRequestTranslator
{
    GeminiRequestTranslator(model: model, dropParams: dropParams, signatures: signatures)
}

extension Dictionary where Key == String, Value == Any {
    var contents: [[String: Any]] { self["contents"] as? [[String: Any]] ?? [] }
}

extension [String: Any] {
    var parts: [[String: Any]] { self["parts"] as? [[String: Any]] ?? [] }
}
