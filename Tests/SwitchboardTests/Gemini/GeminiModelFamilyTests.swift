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
    func overrideThroughTranslator() throws {
        let loaded = try ConfigurationLoader(environment: [:]).load(yaml: """
            model_list:
              - model_name: lite
                litellm_params: {model: gemini/gemini-flash-lite-latest, api_key: k}
                model_info: {id: lite-1, base_model: gemini/gemini-2.5-flash-lite}
            """)
        #expect(loaded.warnings.isEmpty)
        let deployment = try #require(loaded.configuration.deployments.first)
        #expect(deployment.baseModel == "gemini/gemini-2.5-flash-lite")
        let request = try anthropicRequest(
            #"{"model":"lite","max_tokens":100,"thinking":{"type":"adaptive"},"messages":[{"role":"user","content":"hi"}]}"#
        )
        let family = deployment.baseModel.flatMap(GeminiModelFamily.init(baseModel:))
        let translated = try GeminiRequestTranslator(
            model: "gemini-flash-lite-latest", family: family, dropParams: false, signatures: ThoughtSignatures()
        ).translate(request)
        #expect(translated.request.generationConfig?.thinkingConfig == GeminiThinkingConfig(thinkingBudget: -1, includeThoughts: true))
        let unknown = try translator(model: "gemini-flash-lite-latest").translate(request)
        #expect(unknown.request.generationConfig?.thinkingConfig?.thinkingLevel == "high", "without the override: the newest rules")
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
