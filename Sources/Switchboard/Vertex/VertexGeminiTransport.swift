/// `vertex_ai/gemini-…`: Gemini on Vertex AI, `…/publishers/google/models/{model}:{method}` with a Google
/// access token. Its `countTokens` takes the request's fields at the top level (wire.md §C.4), and a
/// model it does not serve in the location gets a 404 that says where it is served.
struct VertexGeminiTransport: GeminiTransport {
    let access: VertexAccess

    func countTokensShape(model: String) -> GeminiCountTokensRequest.Shape {
        .flat
    }

    func endpoint(model: String, method: GeminiMethod, call: ProviderCall) async throws -> GeminiEndpoint {
        try await self.access.prepare(publisher: .google, model: model, method: method.pathSuffix, call: call)
    }

    func errors(model: String) -> GeminiErrorMapper {
        GeminiErrorMapper(vertex: (model, self.access.settings.location))
    }
}
