import Foundation

/// Google credentials found and validated, not yet used: which file (or the metadata server), what type,
/// and each type's fields. Nothing here touches the network; ``GoogleTokenStore`` turns them into tokens.
///
/// The value holds secrets (a refresh token, a private key): its description and mirror show only the
/// source, type and account, so that logging it by mistake leaks nothing.
public struct GoogleCredentials: Sendable, Hashable {
    public var source: GoogleCredentialSource
    /// `authorized_user`, `service_account`, `impersonated_service_account`, `external_account` or
    /// `gce_metadata`.
    public var typeName: String
    /// `project_id` in the file (service accounts); nil otherwise.
    public var projectID: String?
    /// `quota_project_id`: the project billed for quota, sent as `x-goog-user-project`.
    public var quotaProjectID: String?
    /// Who the credential acts as, for messages: a service account's email, or nil. Never a secret.
    public var account: String?
    var kind: Kind

    init(
        source: GoogleCredentialSource,
        kind: Kind,
        projectID: String? = nil,
        quotaProjectID: String? = nil,
        account: String? = nil
    ) {
        self.source = source
        self.kind = kind
        self.typeName = kind.typeName
        self.projectID = projectID
        self.quotaProjectID = quotaProjectID
        self.account = account
    }

    static let cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
    /// Google's OAuth 2.0 token endpoint.
    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"
    static let defaultMetadataHost = "metadata.google.internal"

    /// Finds the credentials to use, as google-auth's `google.auth.default()` does.
    ///
    /// `vertexCredentials` (LiteLLM's `vertex_credentials`: a path, or inline JSON) comes first when given.
    /// Then `GOOGLE_APPLICATION_CREDENTIALS`; then gcloud's well-known file
    /// (`$CLOUDSDK_CONFIG/application_default_credentials.json`, else `$HOME/.config/gcloud/…`), skipped
    /// when absent; then the metadata server at `GCE_METADATA_HOST` (else `GCE_METADATA_ROOT`, else
    /// metadata.google.internal), which is not probed here: the first token request finds out.
    /// `GOOGLE_CLOUD_QUOTA_PROJECT`, when set, replaces the file's `quota_project_id`, as in google-auth.
    ///
    /// - Throws: ``GoogleCredentialsError`` naming the source when a file named is missing, unreadable,
    ///   not JSON, lacks a required key, or has a type this build does not support.
    public static func resolve(vertexCredentials: String?, environment: [String: String]) throws -> GoogleCredentials {
        var credentials = try Self.find(vertexCredentials: vertexCredentials, environment: environment)
        if let quotaProject = environment["GOOGLE_CLOUD_QUOTA_PROJECT"], !quotaProject.isEmpty {
            credentials.quotaProjectID = quotaProject
        }
        return credentials
    }

    private static func find(vertexCredentials: String?, environment: [String: String]) throws -> GoogleCredentials {
        if let given = vertexCredentials?.trimmingCharacters(in: .whitespacesAndNewlines), !given.isEmpty {
            if given.hasPrefix("{") { return try Self.parse(given, source: .vertexCredentials(path: nil)) }
            return try Self.load(path: given, source: .vertexCredentials(path: given))
        }
        if let path = environment["GOOGLE_APPLICATION_CREDENTIALS"], !path.isEmpty {
            return try Self.load(path: path, source: .environmentVariable(path: path))
        }
        if let path = Self.gcloudFilePath(environment: environment), FileManager.default.fileExists(atPath: path) {
            return try Self.load(path: path, source: .gcloud(path: path))
        }
        let host =
            [environment["GCE_METADATA_HOST"], environment["GCE_METADATA_ROOT"]]
            .compactMap { $0 }.first { !$0.isEmpty } ?? Self.defaultMetadataHost
        return GoogleCredentials(source: .metadataServer(host: host), kind: .metadataServer(host: host))
    }

    /// gcloud's application default credentials file: in `CLOUDSDK_CONFIG` when set, else `~/.config/gcloud`.
    static func gcloudFilePath(environment: [String: String]) -> String? {
        let directory: String
        if let config = environment["CLOUDSDK_CONFIG"], !config.isEmpty {
            directory = config
        } else if let home = environment["HOME"], !home.isEmpty {
            directory = home + "/.config/gcloud"
        } else {
            return nil
        }
        return directory + "/application_default_credentials.json"
    }

    static func load(path: String, source: GoogleCredentialSource) throws -> GoogleCredentials {
        guard FileManager.default.fileExists(atPath: path) else {
            throw GoogleCredentialsError.unreadable(source, "the file was not found")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GoogleCredentialsError.unreadable(source, "the file cannot be read")
        }
        return try Self.parse(String(decoding: data, as: UTF8.self), source: source)
    }

    static func parse(_ text: String, source: GoogleCredentialSource) throws -> GoogleCredentials {
        let json: JSONValue
        do {
            json = try JSONValue.parse(text)
        } catch {
            throw GoogleCredentialsError.malformed(source, "not valid JSON (\(error))")
        }
        guard case .object = json else { throw GoogleCredentialsError.malformed(source, "not a JSON object") }
        return try CredentialFileReader(json: json, source: source).credentials()
    }
}

extension GoogleCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let account = self.account.map { " \($0)" } ?? ""
        return "\(self.typeName)\(account) from \(self.source)"
    }

    public var debugDescription: String { self.description }

    public var customMirror: Mirror {
        Mirror(self, children: ["source": self.source, "typeName": self.typeName, "account": self.account as Any])
    }
}
