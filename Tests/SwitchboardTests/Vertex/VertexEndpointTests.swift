import Testing

@testable import Switchboard

@Suite("Vertex AI endpoint URLs")
struct VertexEndpointTests {
    @Test("the host follows the location: global has no prefix, multi-regions have their own")
    func hosts() {
        #expect(VertexEndpoint.host(for: "global") == "aiplatform.googleapis.com")
        #expect(VertexEndpoint.host(for: "us-central1") == "us-central1-aiplatform.googleapis.com")
        #expect(VertexEndpoint.host(for: "europe-west4") == "europe-west4-aiplatform.googleapis.com")
        #expect(VertexEndpoint.host(for: "us") == "aiplatform.us.rep.googleapis.com")
        #expect(VertexEndpoint.host(for: "eu") == "aiplatform.eu.rep.googleapis.com")
    }

    @Test("Gemini and Claude URLs as Vertex documents them")
    func publisherURLs() {
        let global = VertexEndpoint(location: "global")
        #expect(
            global.url(project: "my-proj", publisher: .google, model: "gemini-3-flash-preview", method: "streamGenerateContent?alt=sse")
                == "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/google/models/gemini-3-flash-preview:streamGenerateContent?alt=sse"
        )
        let regional = VertexEndpoint(location: "us-east5")
        #expect(
            regional.url(project: "p", publisher: .anthropic, model: "claude-sonnet-4-5@20250929", method: "rawPredict")
                == "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
        )
    }

    @Test("api_base as LiteLLM reads it: no path grafts the whole path, /v1 the rest, any other path is the model's URL")
    func apiBase() {
        let bare = VertexEndpoint(location: "global", apiBase: "http://127.0.0.1:9/")
        #expect(
            bare.url(project: "p", publisher: .google, model: "gemini-2.5-flash", method: "countTokens")
                == "http://127.0.0.1:9/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:countTokens"
        )
        let versioned = VertexEndpoint(location: "europe-west1", apiBase: "https://proxy.example/vertex/v1beta1")
        #expect(
            versioned.url(project: "p", publisher: .google, model: "gemini-2.5-pro", method: "generateContent")
                == "https://proxy.example/vertex/v1beta1/projects/p/locations/europe-west1/publishers/google/models/gemini-2.5-pro:generateContent"
        )
        let modelURL = VertexEndpoint(location: "global", apiBase: "https://gw.example/endpoints/42")
        #expect(
            modelURL.url(project: "p", publisher: .google, model: "gemini-2.5-pro", method: "generateContent")
                == "https://gw.example/endpoints/42:generateContent"
        )
    }

    @Test("a project or model id can add neither a path segment nor a method")
    func encoding() {
        let url = VertexEndpoint(location: "global").url(project: "a/b", publisher: .google, model: "x:y", method: "generateContent")
        #expect(url.hasSuffix("/projects/a%2Fb/locations/global/publishers/google/models/x%3Ay:generateContent"))
    }

    @Test("a model id beginning with claude is Anthropic's; any other is Google's")
    func publishers() {
        #expect(VertexEndpoint.Publisher(model: "claude-opus-4-5@20251101") == .anthropic)
        #expect(VertexEndpoint.Publisher(model: "gemini-2.5-flash") == .google)
    }

    @Test("a 404 for a Gemini 3 preview outside global says to use global")
    func locationAdvice() {
        let advice = VertexLocationAdvice.advice(model: "gemini-3-pro-preview", location: "us-central1")
        #expect(advice.contains("vertex_location: global"))
        #expect(!VertexLocationAdvice.advice(model: "gemini-2.5-flash", location: "us-central1").contains("vertex_location: global"))
    }
}
