import Foundation
import SwitchboardTesting
import Testing

@testable import Switchboard

@Suite("Gemini model families")
struct GeminiModelFamilyTests {
    @Test(
        "ids the table does not know get the newest family's rules, not none",
        arguments: ["gemini-flash-latest", "gemini-pro-latest", "gemini-exp-1206", "tunedModels/my-model-abc123", "gemini-4-flash"]
    )
    func unknownIsNewest(id: String) {
        let family = GeminiModelFamily(model: id)
        #expect(family == .gemini3(isPro: id.contains("-pro")))
        #expect(family.validatesThoughtSignatures)
        let config = family.thinkingConfig(thinking: .object(["type": .string("adaptive")]), effort: "medium")
        #expect(config?.thinkingLevel == "medium")
    }

    @Test("ids known to be older keep older rules", arguments: ["gemini-2.0-flash", "gemini-1.5-pro-002", "gemma-3-27b-it"])
    func olderStayOlder(id: String) {
        #expect(GeminiModelFamily(model: id) == .other)
        #expect(GeminiModelFamily(model: id).thinkingConfig(thinking: .object(["type": .string("adaptive")]), effort: nil) == nil)
    }

    @Test("base_model names a known model (with or without gemini/), or nothing")
    func baseModel() {
        let lite = GeminiModelFamily.gemini2(budgetRange: 512...24_576, canDisable: true)
        #expect(GeminiModelFamily(baseModel: "gemini/gemini-2.5-flash-lite") == lite)
        #expect(GeminiModelFamily(baseModel: "gemini-3.1-pro-preview") == .gemini3(isPro: true))
        #expect(GeminiModelFamily(baseModel: "gemini-flash-latest") == nil, "an alias is what the override replaces")
        #expect(GeminiModelFamily(baseModel: "gpt-4o") == nil)
    }

    @Test("a deployment's base_model decides the rules: an alias that points at 2.5 gets a thinking budget, not a level")
    func overrideReachesTheUpstream() async throws {
        let fake = try await FakeGeminiServer.start(apiKey: "k")
        let body = #"{"model":"lite","max_tokens":100,"thinking":{"type":"adaptive"},"messages":[{"role":"user","content":"hi"}]}"#
        func thinkingConfig(baseModel: String?) async throws -> [String: Any]? {
            let info = baseModel.map { "\n    model_info: {id: lite-1, base_model: \($0)}" } ?? ""
            let harness = try GatewayHarness(yaml: """
                model_list:
                  - model_name: lite
                    litellm_params: {model: gemini/gemini-flash-lite-latest, api_key: k, api_base: "\(fake.baseURL)/v1beta"}\(info)
                """)
            _ = try await harness.test { client in try await client.post("/v1/messages", body) }
            let sent = try #require(fake.requests.last)
            let json = try JSONSerialization.jsonObject(with: Data(sent.body.readableBytesView)) as? [String: Any]
            return (json?["generationConfig"] as? [String: Any])?["thinkingConfig"] as? [String: Any]
        }
        let overridden = try await thinkingConfig(baseModel: "gemini/gemini-2.5-flash-lite")
        #expect(overridden?["thinkingBudget"] as? Int == -1)
        #expect(overridden?["thinkingLevel"] == nil)
        let unknown = try await thinkingConfig(baseModel: nil)
        #expect(unknown?["thinkingLevel"] as? String == "high", "without the override: the newest rules")
        await fake.stop()
    }

    @Test("a base_model the table does not know is an error naming its path")
    func badOverride() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: [:]).load(yaml: """
                model_list:
                  - model_name: x
                    litellm_params: {model: gemini/gemini-exp-1206, api_key: k}
                    model_info: {base_model: gemini-exp}
                """)
        }
        #expect(error?.path == "model_list[0].model_info.base_model")
    }
}
