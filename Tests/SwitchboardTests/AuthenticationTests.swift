import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Switchboard
import Testing

@Suite("The master key")
struct AuthenticationTests {
    static let yaml = """
        model_list: [{model_name: m, litellm_params: {model: mock/echo}}]
        general_settings: {master_key: sk-right-key}
        """
    static let body = #"{"model":"m","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"#

    @Test("is accepted as x-api-key and as Authorization: Bearer")
    func accepted() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let (apiKey, bearer) = try await harness.test { client in
            (
                try await client.post("/v1/messages", Self.body, headers: [HTTPField.Name("x-api-key")!: "sk-right-key"]),
                try await client.post("/v1/messages", Self.body, headers: [.authorization: "Bearer sk-right-key"])
            )
        }
        #expect(apiKey.status == .ok)
        #expect(bearer.status == .ok)
    }

    @Test(
        "missing or wrong keys get 401 authentication_error on every route but the health checks",
        arguments: [
            ("/v1/messages", nil, nil),
            ("/v1/messages", "x-api-key", "sk-wrong-key"),
            ("/v1/messages", "authorization", "Bearer sk-right-kez"),
            ("/v1/messages", "authorization", "Basic sk-right-key"),
            ("/v1/messages", "authorization", "Bearer sk-right-key-and-more"),
            ("/v1/messages/count_tokens", nil, nil),
        ]
    )
    func rejected(path: String, header: String?, value: String?) async throws {
        var headers = HTTPFields()
        if let header, let value { headers[HTTPField.Name(header)!] = value }
        let harness = try GatewayHarness(yaml: Self.yaml)
        let response = try await harness.test { [headers] client in try await client.post(path, Self.body, headers: headers) }
        #expect(response.status == .unauthorized)
        #expect(response.errorType == "authentication_error")
        #expect(response.errorMessage?.contains("sk-") == false, "never echo a key")
    }

    @Test("models need the key; health does not")
    func routes() async throws {
        let harness = try GatewayHarness(yaml: Self.yaml)
        let (models, health, ready) = try await harness.test { client in
            (
                try await client.execute(uri: "/v1/models", method: .get),
                try await client.execute(uri: "/health", method: .get),
                try await client.execute(uri: "/health/ready", method: .get)
            )
        }
        #expect(models.status == .unauthorized)
        #expect(health.status == .ok)
        #expect(ready.status == .ok)
    }
}
