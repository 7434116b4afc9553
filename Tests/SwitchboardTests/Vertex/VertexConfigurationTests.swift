import Foundation
import Testing

@testable import Switchboard

/// How a `vertex_ai/` entry finds its project, location and credentials, and what `check` says of them.
@Suite("vertex_ai/ configuration")
struct VertexConfigurationTests {
    /// A gcloud configuration directory holding an `authorized_user` ADC file (and, when given, gcloud's
    /// active configuration with a project).
    static func gcloudDirectory(quotaProject: String? = nil, gcloudProject: String? = nil) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gcloud-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("configurations"), withIntermediateDirectories: true)
        var adc = #"{"type":"authorized_user","client_id":"id.apps.googleusercontent.com","client_secret":"s","refresh_token":"1//r""#
        if let quotaProject { adc += #","quota_project_id":"\#(quotaProject)""# }
        try (adc + "}").write(to: directory.appendingPathComponent("application_default_credentials.json"), atomically: true, encoding: .utf8)
        if let gcloudProject {
            try "[core]\naccount = me@example.com\nproject = \(gcloudProject)\n"
                .write(to: directory.appendingPathComponent("configurations/config_default"), atomically: true, encoding: .utf8)
        }
        return directory.path
    }

    static func load(_ params: String, _ environment: [String: String]) throws -> ConfigurationLoader.Result {
        try ConfigurationLoader(environment: environment).load(yaml: "model_list:\n  - {model_name: m, litellm_params: {\(params)}}\n")
    }

    @Test("vertex_project, then VERTEXAI_PROJECT, GOOGLE_CLOUD_PROJECT, the credentials' quota project, gcloud's project")
    func projectOrder() throws {
        let gcloud = try Self.gcloudDirectory(quotaProject: "quota-p", gcloudProject: "gcloud-p")
        let base = ["CLOUDSDK_CONFIG": gcloud]
        func project(_ params: String, _ environment: [String: String]) throws -> String? {
            try Self.load(params, base.merging(environment) { $1 }).configuration.deployments[0].vertex?.project
        }
        #expect(try project("model: vertex_ai/gemini-2.5-flash, vertex_project: explicit", ["GOOGLE_CLOUD_PROJECT": "env"]) == "explicit")
        #expect(try project("model: vertex_ai/gemini-2.5-flash", ["VERTEXAI_PROJECT": "litellm", "GOOGLE_CLOUD_PROJECT": "env"]) == "litellm")
        #expect(try project("model: vertex_ai/gemini-2.5-flash", ["GOOGLE_CLOUD_PROJECT": "env"]) == "env")
        #expect(try project("model: vertex_ai/gemini-2.5-flash", [:]) == "quota-p")
        let noQuota = try Self.gcloudDirectory(gcloudProject: "gcloud-p")
        let settings = try Self.load("model: vertex_ai/gemini-2.5-flash", ["CLOUDSDK_CONFIG": noQuota]).configuration.deployments[0].vertex
        #expect(settings?.project == "gcloud-p")
        #expect(settings?.credentials.typeName == "authorized_user")
    }

    @Test("the location: vertex_location, then GOOGLE_CLOUD_LOCATION, else global; a host-breaking one is refused")
    func location() throws {
        let environment = ["CLOUDSDK_CONFIG": try Self.gcloudDirectory(quotaProject: "p")]
        let explicit = try Self.load("model: vertex_ai/gemini-2.5-flash, vertex_location: europe-west4", environment)
        #expect(explicit.configuration.deployments[0].vertex?.location == "europe-west4")
        let fromEnvironment = try Self.load("model: vertex_ai/gemini-2.5-flash", environment.merging(["GOOGLE_CLOUD_LOCATION": "us-east5"]) { $1 })
        #expect(fromEnvironment.configuration.deployments[0].vertex?.location == "us-east5")
        #expect(try Self.load("model: vertex_ai/gemini-2.5-flash", environment).configuration.deployments[0].vertex?.location == "global")
        #expect(throws: ConfigurationError.self) {
            try Self.load("model: vertex_ai/gemini-2.5-flash, vertex_location: \"evil.com/x\"", environment)
        }
    }

    @Test("credentials with no project anywhere: an error that says to set vertex_project")
    func noProject() throws {
        let environment = ["CLOUDSDK_CONFIG": try Self.gcloudDirectory()]
        do {
            _ = try Self.load("model: vertex_ai/gemini-2.5-flash", environment)
            Issue.record("expected an error")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("vertex_project"))
            #expect(error.description.contains("model_list[0].litellm_params"))
        }
    }

    @Test("vertex_credentials as inline JSON; an unsupported type is an error naming it")
    func inlineCredentials() throws {
        let inline = #"{\"type\":\"authorized_user\",\"client_id\":\"c\",\"client_secret\":\"s\",\"refresh_token\":\"r\",\"quota_project_id\":\"q\"}"#
        let loaded = try Self.load("model: vertex_ai/gemini-2.5-flash, vertex_credentials: \"\(inline)\"", [:])
        #expect(loaded.configuration.deployments[0].vertex?.credentials.source == .vertexCredentials(path: nil))
        #expect(loaded.configuration.deployments[0].vertex?.project == "q")
        let unsupported = #"{\"type\":\"gdch_service_account\"}"#
        do {
            _ = try Self.load("model: vertex_ai/gemini-2.5-flash, vertex_credentials: \"\(unsupported)\"", [:])
            Issue.record("expected an error")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("gdch_service_account"))
            #expect(error.description.contains("vertex_credentials"))
        }
    }

    @Test("vertex_* keys on another provider are warned about, not used")
    func warnedElsewhere() throws {
        let loaded = try Self.load("model: gemini/gemini-2.5-flash, api_key: k, vertex_project: p", [:])
        #expect(loaded.warnings.contains { $0.contains("vertex_project") && $0.contains("not used by the gemini provider") })
    }

    @Test("check shows the project, location and credentials, and where each came from")
    func report() throws {
        let environment = ["CLOUDSDK_CONFIG": try Self.gcloudDirectory(quotaProject: "quota-p"), "GOOGLE_CLOUD_PROJECT": "env-p"]
        let loaded = try Self.load("model: vertex_ai/gemini-2.5-flash", environment)
        let text = RouteReport(configuration: loaded.configuration).text
        #expect(text.contains("https://aiplatform.googleapis.com/v1/projects/env-p/locations/global"))
        #expect(text.contains("vertex_ai: project env-p (GOOGLE_CLOUD_PROJECT), location global (default), credentials authorized_user from the gcloud application default credentials"))
    }

    @Test("the embedded default: Gemini key first, then Vertex with ADC and a project, else the mock")
    func embeddedDefault() throws {
        let gcloud = try Self.gcloudDirectory(quotaProject: "p")
        #expect(EmbeddedDefaultConfiguration.yaml(environment: ["GEMINI_API_KEY": "k", "CLOUDSDK_CONFIG": gcloud]).contains("gemini/"))
        let vertex = ["CLOUDSDK_CONFIG": gcloud, "HOME": "/nonexistent"]
        #expect(EmbeddedDefaultConfiguration.yaml(environment: vertex).contains("vertex_ai/"))
        #expect(EmbeddedDefaultConfiguration.notice(environment: vertex).contains("Vertex AI"))
        #expect(EmbeddedDefaultConfiguration.notice(environment: vertex).contains("project p"))
        let loaded = try ConfigurationLoader(environment: vertex).load(yaml: EmbeddedDefaultConfiguration.yaml(environment: vertex))
        #expect(loaded.configuration.deployments.allSatisfy { $0.provider == .vertexAI && $0.vertex?.project == "p" })
        let bare = ["CLOUDSDK_CONFIG": "/nonexistent", "HOME": "/nonexistent"]
        #expect(EmbeddedDefaultConfiguration.yaml(environment: bare).contains("mock/"))
        #expect(EmbeddedDefaultConfiguration.yaml(environment: bare.merging(["GOOGLE_CLOUD_PROJECT": "p"]) { $1 }).contains("vertex_ai/"))
    }
}
