/// Where a `vertex_ai/` deployment runs on Google Cloud and as whom, resolved when the configuration
/// loads: the project, the location, and the credentials its access tokens come from.
public struct VertexSettings: Sendable, Hashable {
    /// The project requests are made in (`projects/{project}/…`); nil when only the metadata server knows it.
    public var project: String?
    /// Where ``project`` came from, for `switchboard check` and the start-up log.
    public var projectOrigin: String
    public var location: String
    public var locationOrigin: String
    public var credentials: GoogleCredentials

    /// LiteLLM's order: the deployment's `vertex_project` / `vertex_location`, then the environment
    /// (LiteLLM's `VERTEXAI_PROJECT`, then google-auth's `GOOGLE_CLOUD_PROJECT` and the legacy `GCLOUD_PROJECT`;
    /// `VERTEXAI_LOCATION`, then `GOOGLE_CLOUD_LOCATION`), then the credentials' own project (a service
    /// account's `project_id`, else the `quota_project_id`). The location defaults to `global`, where
    /// every Gemini model is served. Last, as `gcloud` users expect, the project of gcloud's active configuration.
    static func resolve(
        project: String?,
        location: String?,
        credentials: GoogleCredentials,
        environment: [String: String]
    ) -> VertexSettings {
        func fromEnvironment(_ names: [String]) -> (value: String, name: String)? {
            for name in names {
                if let value = environment[name], !value.isEmpty { return (value, name) }
            }
            return nil
        }
        var settings = VertexSettings(
            project: nil, projectOrigin: "the metadata server", location: "global", locationOrigin: "default",
            credentials: credentials
        )
        if let project {
            (settings.project, settings.projectOrigin) = (project, "vertex_project")
        } else if let found = fromEnvironment(["VERTEXAI_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"]) {
            (settings.project, settings.projectOrigin) = (found.value, found.name)
        } else if let own = credentials.projectID {
            (settings.project, settings.projectOrigin) = (own, "the credentials' project_id")
        } else if let quota = credentials.quotaProjectID {
            (settings.project, settings.projectOrigin) = (quota, "the credentials' quota_project_id")
        } else if let gcloud = GcloudConfiguration(environment: environment), let project = gcloud.project {
            (settings.project, settings.projectOrigin) = (project, "gcloud config (\(gcloud.path))")
        }
        if let location {
            (settings.location, settings.locationOrigin) = (location, "vertex_location")
        } else if let found = fromEnvironment(["VERTEXAI_LOCATION", "GOOGLE_CLOUD_LOCATION"]) {
            (settings.location, settings.locationOrigin) = (found.value, found.name)
        }
        return settings
    }

    /// Why `location` cannot be a Vertex location (it becomes part of a host name), or nil.
    static func problem(withLocation location: String) -> String? {
        let valid = !location.isEmpty && location.count <= 63
            && location.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            && location.first != "-" && location.last != "-"
        return valid ? nil : "expected a Vertex AI location such as global, us-central1 or europe-west4"
    }

    /// One line for people: `project my-proj (GOOGLE_CLOUD_PROJECT), location global (default), credentials …`.
    public var summary: String {
        let project = self.project.map { "\($0) (\(self.projectOrigin))" } ?? "from the metadata server"
        return "project \(project), location \(self.location) (\(self.locationOrigin)), "
            + "credentials \(self.credentials.typeName) from \(self.credentials.source.description)"
    }
}
