import Foundation
import SwitchboardTesting
import Testing
import Upstream

@testable import Switchboard

/// Where credentials are found (google-auth's ADC order) and what a file that cannot be used is told.
@Suite("Google credentials: discovery")
struct GoogleCredentialDiscoveryTests {
    /// A scratch folder with a HOME inside, removed afterwards.
    struct Scratch {
        let directory = NSTemporaryDirectory() + "adc-\(UUID().uuidString)"

        init() throws {
            try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        }

        @discardableResult
        func write(_ text: String, to relative: String) throws -> String {
            let path = self.directory + "/" + relative
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        func remove() { try? FileManager.default.removeItem(atPath: self.directory) }
    }

    static let authority = FakeGoogleAuthority(baseURL: "http://127.0.0.1:9")

    @Test("GOOGLE_APPLICATION_CREDENTIALS beats the gcloud file")
    func environmentVariableFirst() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let user = Self.authority.addAuthorizedUser()
        try scratch.write(user.json, to: "home/.config/gcloud/application_default_credentials.json")
        let keyPath = try scratch.write(Self.authority.addServiceAccount().json, to: "key.json")
        let credentials = try GoogleCredentials.resolve(
            vertexCredentials: nil,
            environment: ["HOME": scratch.directory + "/home", "GOOGLE_APPLICATION_CREDENTIALS": keyPath]
        )
        #expect(credentials.source == .environmentVariable(path: keyPath))
        #expect(credentials.typeName == "service_account")
        #expect(credentials.source.label == "GOOGLE_APPLICATION_CREDENTIALS")
        #expect(credentials.source.description == "GOOGLE_APPLICATION_CREDENTIALS (\(keyPath))")
    }

    @Test("without the variable, gcloud's file under HOME; CLOUDSDK_CONFIG moves it")
    func gcloudFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let atHome = try scratch.write(
            Self.authority.addAuthorizedUser().json,
            to: "home/.config/gcloud/application_default_credentials.json"
        )
        let found = try GoogleCredentials.resolve(
            vertexCredentials: nil,
            environment: ["HOME": scratch.directory + "/home"]
        )
        #expect(found.source == .gcloud(path: atHome))
        #expect(found.source.label == "gcloud")

        let moved = try scratch.write(
            Self.authority.addAuthorizedUser().json,
            to: "elsewhere/application_default_credentials.json"
        )
        let relocated = try GoogleCredentials.resolve(
            vertexCredentials: nil,
            environment: ["HOME": scratch.directory + "/home", "CLOUDSDK_CONFIG": scratch.directory + "/elsewhere"]
        )
        #expect(relocated.source == .gcloud(path: moved))
    }

    @Test("vertex_credentials comes first: inline JSON, or a path")
    func vertexCredentials() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let keyPath = try scratch.write(Self.authority.addServiceAccount().json, to: "key.json")
        let environment = ["GOOGLE_APPLICATION_CREDENTIALS": keyPath, "HOME": scratch.directory]
        let user = Self.authority.addAuthorizedUser(quotaProjectID: "q")
        let inline = try GoogleCredentials.resolve(vertexCredentials: user.json, environment: environment)
        #expect(inline.source == .vertexCredentials(path: nil))
        #expect(inline.typeName == "authorized_user")
        #expect(inline.quotaProjectID == "q")

        let userPath = try scratch.write(user.json, to: "user.json")
        let byPath = try GoogleCredentials.resolve(vertexCredentials: userPath, environment: environment)
        #expect(byPath.source == .vertexCredentials(path: userPath))
        #expect(byPath.source.label == "vertex_credentials")
    }

    @Test("no file anywhere: the metadata server, at GCE_METADATA_HOST or metadata.google.internal")
    func metadataServerLast() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let standard = try GoogleCredentials.resolve(vertexCredentials: nil, environment: ["HOME": scratch.directory])
        #expect(standard.source == .metadataServer(host: "metadata.google.internal"))
        #expect(standard.source.label == "metadata_server")
        let custom = try GoogleCredentials.resolve(
            vertexCredentials: nil,
            environment: ["HOME": scratch.directory, "GCE_METADATA_HOST": "127.0.0.1:8080"]
        )
        #expect(custom.source == .metadataServer(host: "127.0.0.1:8080"))
    }

    @Test("a file named but missing is an error naming the variable and the path, not a fall-through")
    func missingFile() throws {
        let error = try #require(throws: GoogleCredentialsError.self) {
            try GoogleCredentials.resolve(
                vertexCredentials: nil,
                environment: ["GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/key.json"]
            )
        }
        #expect(error.message.contains("GOOGLE_APPLICATION_CREDENTIALS (/nonexistent/key.json)"))
        #expect(error.message.contains("not found"))
    }

    @Test(
        "an unsupported type names the type and lists the supported ones",
        arguments: ["gdch_service_account", "external_account_authorized_user", "something_new"]
    )
    func unsupportedType(type: String) throws {
        let error = try #require(throws: GoogleCredentialsError.self) {
            try GoogleCredentials.resolve(vertexCredentials: #"{"type": "\#(type)", "x": 1}"#, environment: [:])
        }
        #expect(error.isUnsupportedType)
        #expect(error.message.contains("\"\(type)\""))
        #expect(error.message.contains("vertex_credentials (inline JSON)"))
        #expect(
            error.message.contains(
                "authorized_user, service_account, impersonated_service_account, external_account"
            )
        )
    }

    @Test("AWS- and executable-sourced external accounts are refused by name")
    func unsupportedExternalSources() throws {
        let aws = #"""
            {"type": "external_account", "audience": "a", "subject_token_type": "t", "token_url": "u",
             "credential_source": {"environment_id": "aws1", "region_url": "http://169.254.169.254"}}
            """#
        let awsError = try #require(throws: GoogleCredentialsError.self) {
            try GoogleCredentials.resolve(vertexCredentials: aws, environment: [:])
        }
        #expect(awsError.message.contains("AWS"))
        let executable = aws.replacingOccurrences(
            of: #""environment_id": "aws1", "region_url": "http://169.254.169.254""#,
            with: #""executable": {"command": "/bin/true"}"#
        )
        let executableError = try #require(throws: GoogleCredentialsError.self) {
            try GoogleCredentials.resolve(vertexCredentials: executable, environment: [:])
        }
        #expect(executableError.message.contains("executable"))
    }

    @Test("a missing key, bad JSON or a bad private key names what is wrong")
    func malformedFiles() throws {
        let missing = try #require(throws: GoogleCredentialsError.self) {
            try GoogleCredentials.resolve(
                vertexCredentials: #"{"type": "authorized_user", "client_id": "c", "client_secret": "s"}"#,
                environment: [:]
            )
        }
        #expect(missing.message.contains("\"refresh_token\""))
        let notJSON = try #require(throws: GoogleCredentialsError.self) {
            try GoogleCredentials.resolve(vertexCredentials: "{not json", environment: [:])
        }
        #expect(notJSON.message.contains("not valid JSON"))
        let badKey = try #require(throws: GoogleCredentialsError.self) {
            try GoogleCredentials.resolve(
                vertexCredentials: #"""
                    {"type": "service_account", "client_email": "a@b", "token_uri": "https://x/token",
                     "private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"}
                    """#,
                environment: [:]
            )
        }
        #expect(badKey.message.contains("private_key"))
        #expect(!badKey.message.contains("not a key"))
    }

    @Test("describing credentials shows the source and account, never the secrets")
    func descriptionHidesSecrets() throws {
        let user = Self.authority.addAuthorizedUser()
        let credentials = try GoogleCredentials.resolve(vertexCredentials: user.json, environment: [:])
        for text in [
            "\(credentials)", String(reflecting: credentials),
            {
                var out = ""; dump(credentials, to: &out); return out
            }(),
        ] {
            #expect(!text.contains(user.refreshToken))
            #expect(!text.contains(user.clientSecret))
            #expect(text.contains("authorized_user"))
        }
    }
}

extension GoogleCredentialDiscoveryTests {
    @Test("GOOGLE_CLOUD_QUOTA_PROJECT replaces the file's quota_project_id, as in google-auth")
    func quotaProjectFromEnvironment() throws {
        let user = Self.authority.addAuthorizedUser(quotaProjectID: "from-file")
        let fromFile = try GoogleCredentials.resolve(vertexCredentials: user.json, environment: [:])
        #expect(fromFile.quotaProjectID == "from-file")
        let overridden = try GoogleCredentials.resolve(
            vertexCredentials: user.json,
            environment: ["GOOGLE_CLOUD_QUOTA_PROJECT": "from-env"]
        )
        #expect(overridden.quotaProjectID == "from-env")
    }

    @Test("an authorized_user file's token_uri is ignored: refresh tokens only go to Google's endpoint")
    func authorizedUserTokenURIIgnored() async throws {
        let json = #"""
            {"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r",
             "token_uri": "https://attacker.example/token"}
            """#
        let credentials = try GoogleCredentials.resolve(vertexCredentials: json, environment: [:])
        let upstream = UpstreamClient(configuration: .init(proxy: .none))
        #expect(GoogleTokenFetcher(upstream: upstream).serverAddress(of: credentials.kind) == "oauth2.googleapis.com")
        await upstream.shutdown()
    }
}
