/// What to tell a user whose Vertex AI request found no model: where the model is served.
///
/// Vertex answers a model that exists but not in the location asked with the same 404 as a model that
/// does not exist ("Publisher Model … was not found or your project does not have access to it"), so
/// the advice names the location rule that applies to the model.
enum VertexLocationAdvice {
    static func advice(model: String, location: String) -> String {
        if Self.isGlobalOnly(model), location != "global" {
            return "(\(model) is served only from the global location on Vertex AI: set vertex_location: global)"
        }
        if model.hasPrefix("claude") {
            return "(check that \(model) is enabled for your project in Model Garden and offered in \(location); "
                + "Claude models on Vertex AI are served from global and from regions such as us-east5 and europe-west1)"
        }
        return "(check the model id and that \(model) is offered in \(location); Gemini 3 previews are served "
            + "only from global, other Gemini models from global and most regions)"
    }

    /// Gemini 3 previews (3 Flash, 3.1 Pro, 3.1 Flash-Lite) are served from the global endpoint only (wire.md §C.1).
    static func isGlobalOnly(_ model: String) -> Bool {
        model.hasPrefix("gemini-3") && model.contains("preview")
    }
}
