import ArgumentParser
import SwitchboardTesting

/// The fake Google authority alone: OAuth token endpoint, metadata server, STS and IAM Credentials.
struct GoogleAuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "google-auth",
        abstract: "A fake Google token endpoint, metadata server (GCE_METADATA_HOST=127.0.0.1:PORT), STS and IAM.",
        discussion: "Credential files written here point their token_uri at the fake; written before the "
            + "'listening on' line is printed."
    )

    @Option(help: "Port on 127.0.0.1 (0 picks one; the chosen port is printed).")
    var port: Int = 0

    @Option(help: "Write a service account key file (type service_account) the fake accepts to this path.")
    var serviceAccount: String?

    @Option(help: "Write an authorized_user file (as gcloud auth application-default login does) to this path.")
    var user: String?

    @Option(help: "The service account the metadata server hands tokens for.")
    var metadataAccount: String = "fake-vm@fake-project.iam.gserviceaccount.com"

    @Option(help: "Lifetime of issued tokens in seconds.")
    var tokenLifetime: Int = 3599

    func validate() throws {
        guard self.tokenLifetime > 0 else { throw ValidationError("--token-lifetime must be positive") }
    }

    func run() async throws {
        let fake = try await FakeGoogleAuthServer.start(port: self.port)
        fake.authority.tokenLifetime = .seconds(self.tokenLifetime)
        fake.authority.attachMetadataServiceAccount(self.metadataAccount)
        if let path = self.serviceAccount { try fake.authority.addServiceAccount().write(to: path) }
        if let path = self.user { try fake.authority.addAuthorizedUser().write(to: path) }
        try await serve(baseURL: fake.baseURL)
    }
}
