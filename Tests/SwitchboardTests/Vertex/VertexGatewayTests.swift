import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SwitchboardTesting
import Telemetry
import Testing

@testable import Switchboard

/// `vertex_ai/` through the gateway's router, against the fake Vertex AI and its token endpoint:
/// the URL shapes, the bearer token and quota project, both publishers, and each failure's message.
@Suite("vertex_ai/ against the fake Vertex AI")
struct VertexGatewayTests {
    static let project = "vertex-test-project"

    /// A fake Vertex for `project`, a service account key for it written to a file, and a gateway whose
    /// deployments use that key through GOOGLE_APPLICATION_CREDENTIALS.
    struct Setup {
        let fake: FakeVertexServer
        let key: FakeGoogleAuthority.ServiceAccountKey
        let harness: GatewayHarness

        static func start() async throws -> Setup {
            let fake = try await FakeVertexServer.start(project: VertexGatewayTests.project)
            let key = fake.authority.addServiceAccount(projectID: VertexGatewayTests.project)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString).json").path
            try key.write(to: path)
            let yaml = """
                model_list:
                  - {model_name: flash, litellm_params: {model: vertex_ai/gemini-2.5-flash, api_base: "\(fake.baseURL)"}}
                  - {model_name: three-regional, litellm_params: {model: vertex_ai/gemini-3-flash-preview, vertex_location: us-central1, api_base: "\(fake.baseURL)"}}
                  - {model_name: claude, litellm_params: {model: "vertex_ai/claude-sonnet-4-5@20250929", vertex_location: us-east5, api_base: "\(fake.baseURL)"}}
                """
            let harness = try GatewayHarness(yaml: yaml, environment: ["GOOGLE_APPLICATION_CREDENTIALS": path])
            return Setup(fake: fake, key: key, harness: harness)
        }
    }

    static func body(_ model: String, _ text: String, stream: Bool) -> String {
        #"{"model":"\#(model)","max_tokens":64,"stream":\#(stream),"messages":[{"role":"user","content":\#(JSONText.quoted(text))}]}"#
    }

    @Test("Gemini on Vertex: the documented URL, a bearer token from the key, the same translation", arguments: [false, true])
    func gemini(stream: Bool) async throws {
        let setup = try await Setup.start()
        let response = try await setup.harness.test { client in
            try await client.post("/v1/messages", Self.body("flash", "hello vertex", stream: stream))
        }
        #expect(response.status == .ok)
        #expect(GeminiProviderTests.text(response) == "fake-gemini heard: hello vertex")
        let request = try #require(setup.fake.gemini.requests.last)
        let method = stream ? "streamGenerateContent" : "generateContent"
        #expect(request.path == "/v1/projects/\(Self.project)/locations/global/publishers/google/models/gemini-2.5-flash:\(method)")
        #expect(setup.fake.apiCalls.last?["principal"] == setup.key.email)
        let record = try #require(setup.harness.recorder.all.first)
        #expect(record.provider == .vertexAI)
        #expect(record.usage.outputTokens > 0)
        await setup.fake.stop()
    }

    @Test("one token refresh serves many requests, and it is counted")
    func oneRefresh() async throws {
        let setup = try await Setup.start()
        for index in 0..<3 {
            let response = try await setup.harness.test { client in
                try await client.post("/v1/messages", Self.body("flash", "request \(index)", stream: false))
            }
            #expect(response.status == .ok)
        }
        #expect(setup.fake.authority.requestCount(.jwtBearer) == 1)
        #expect(setup.harness.metric("switchboard_credential_refreshes", ["GOOGLE_APPLICATION_CREDENTIALS", "success"]) == 1)
        await setup.fake.stop()
    }

    @Test("Claude on Vertex: rawPredict without model, with anthropic_version; the answer byte for byte", arguments: [false, true])
    func claude(stream: Bool) async throws {
        let setup = try await Setup.start()
        let response = try await setup.harness.test { client in
            try await client.post("/v1/messages", Self.body("claude", "hello claude", stream: stream))
        }
        #expect(response.status == .ok)
        let exchange = try #require(setup.fake.claude.exchanges.last)
        let method = stream ? "streamRawPredict" : "rawPredict"
        #expect(exchange.path == "/v1/projects/\(Self.project)/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:\(method)")
        let sent = try #require(try JSONSerialization.jsonObject(with: Data(exchange.requestBody.readableBytesView)) as? [String: Any])
        #expect(sent["model"] == nil)
        #expect(sent["anthropic_version"] as? String == "vertex-2023-10-16")
        #expect(String(buffer: response.body) == String(buffer: exchange.responseBody))
        await setup.fake.stop()
    }

    @Test("count_tokens: Gemini's flat countTokens body, Claude's count-tokens endpoint")
    func countTokens() async throws {
        let setup = try await Setup.start()
        let body = #"{"model":"MODEL","messages":[{"role":"user","content":"count these words please"}]}"#
        for model in ["flash", "claude"] {
            let response = try await setup.harness.test { client in
                try await client.post("/v1/messages/count_tokens", body.replacingOccurrences(of: "MODEL", with: model))
            }
            #expect(response.status == .ok)
            #expect((response.json["input_tokens"] as? Int ?? 0) > 0)
        }
        let counted = try #require(setup.fake.gemini.requests.last { $0.path.hasSuffix(":countTokens") })
        #expect(!String(buffer: counted.body).contains("generateContentRequest"))
        #expect(setup.fake.claude.exchanges.last?.path.hasSuffix("/publishers/anthropic/models/count-tokens:rawPredict") == true)
        await setup.fake.stop()
    }

    @Test("a Gemini 3 preview outside global: 404 that says to use global")
    func wrongLocation() async throws {
        let setup = try await Setup.start()
        let response = try await setup.harness.test { client in
            try await client.post("/v1/messages", Self.body("three-regional", "hi", stream: false))
        }
        #expect(response.status == .notFound)
        #expect(response.errorType == "not_found_error")
        #expect(response.errorMessage?.contains("vertex_location: global") == true)
        await setup.fake.stop()
    }

    @Test("the quota project goes in x-goog-user-project, which the fake demands")
    func quotaProject() async throws {
        let fake = try await FakeVertexServer.start(project: Self.project, quotaProject: "billing-project")
        let user = fake.authority.addAuthorizedUser(quotaProjectID: "billing-project")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gcloud-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try user.write(to: directory.appendingPathComponent("application_default_credentials.json").path)
        let yaml = """
            model_list:
              - {model_name: flash, litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_project: \(Self.project), api_base: "\(fake.baseURL)"}}
            """
        let harness = try GatewayHarness(
            yaml: yaml, environment: ["CLOUDSDK_CONFIG": directory.path], googleTokenEndpoint: fake.authority.tokenURL
        )
        let response = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("flash", "on the quota project", stream: false))
        }
        #expect(response.status == .ok)
        #expect(fake.gemini.requests.last?.headers.first { $0.name.lowercased() == "x-goog-user-project" }?.value == "billing-project")
        await fake.stop()
    }

    @Test("a refresh token the authority refuses: 401 that says what to run, and no secret in it")
    func revoked() async throws {
        let fake = try await FakeVertexServer.start(project: Self.project)
        let user = fake.authority.addAuthorizedUser()
        fake.authority.revokeRefreshToken(of: user)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("adc-\(UUID().uuidString).json").path
        try user.write(to: path)
        let yaml = """
            model_list:
              - {model_name: flash, litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_project: \(Self.project), vertex_credentials: "\(path)", api_base: "\(fake.baseURL)"}}
            """
        let harness = try GatewayHarness(yaml: yaml, googleTokenEndpoint: fake.authority.tokenURL)
        let response = try await harness.test { client in
            try await client.post("/v1/messages", Self.body("flash", "x", stream: false))
        }
        #expect(response.status == .unauthorized)
        #expect(response.errorType == "authentication_error")
        let message = try #require(response.errorMessage)
        #expect(message.contains("gcloud auth application-default login"))
        #expect(!message.contains(user.refreshToken) && !message.contains(user.clientSecret))
        #expect(fake.gemini.requests.isEmpty, "no request without a token")
        await fake.stop()
    }
}
