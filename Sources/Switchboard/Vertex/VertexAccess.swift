import Upstream

/// How a Vertex AI deployment reaches its models: the URL for a project, location and model, and the
/// headers that authorize a request — a bearer token from the deployment's Google credentials, and
/// `x-goog-user-project` when the credentials name a quota project (as google-auth sends it).
struct VertexAccess: Sendable {
    let settings: VertexSettings
    let endpoint: VertexEndpoint
    let tokens: GoogleAccessTokens

    init(settings: VertexSettings, apiBase: String?, tokens: GoogleAccessTokens) {
        self.settings = settings
        self.endpoint = VertexEndpoint(location: settings.location, apiBase: apiBase)
        self.tokens = tokens
    }

    /// The URL of `method` on `model` and the headers for it. A token refresh this needs is traced under
    /// the request's span; its failure is the 401 the client sees.
    func prepare(
        publisher: VertexEndpoint.Publisher,
        model: String,
        method: String,
        call: ProviderCall
    ) async throws -> GeminiEndpoint {
        let trace = call.exchange.update { $0.trace }
        let token = try await self.tokens.token(parent: trace)
        let project = try await self.project()
        var headers: UpstreamHeaders = ["content-type": "application/json"]
        headers.add(name: "authorization", value: "Bearer \(token)")
        if let quotaProject = self.settings.credentials.quotaProjectID {
            headers.add(name: "x-goog-user-project", value: quotaProject)
        }
        return GeminiEndpoint(
            url: self.endpoint.url(project: project, publisher: publisher, model: model, method: method),
            headers: headers
        )
    }

    /// The configured project, else the metadata server's.
    private func project() async throws -> String {
        if let project = self.settings.project { return project }
        if let project = try await self.tokens.metadataProjectID() { return project }
        throw AnthropicError.authentication(
            "vertex_ai: no Google Cloud project is configured and the metadata server named none; "
                + "set vertex_project in the deployment or GOOGLE_CLOUD_PROJECT in the environment"
        )
    }
}
