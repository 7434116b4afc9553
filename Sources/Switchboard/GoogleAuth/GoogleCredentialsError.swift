/// Credentials that cannot be used: a file missing, unreadable, not JSON, lacking a key, or of a type this
/// build does not support. The message names the source and says what was expected; it never quotes a secret.
public struct GoogleCredentialsError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case unreadable, malformed, unsupportedType
    }

    private let code: Code
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The types ``GoogleCredentials/resolve(vertexCredentials:environment:)`` accepts, for messages.
    static let supportedTypes = "authorized_user, service_account, impersonated_service_account, external_account"

    static func unreadable(_ source: GoogleCredentialSource, _ reason: String) -> Self {
        Self(.unreadable, "Google credentials from \(source): \(reason)")
    }

    static func malformed(_ source: GoogleCredentialSource, _ reason: String) -> Self {
        Self(.malformed, "Google credentials from \(source): \(reason)")
    }

    static func unsupported(_ source: GoogleCredentialSource, type: String, _ detail: String? = nil) -> Self {
        let detail = detail.map { " (\($0))" } ?? ""
        return Self(
            .unsupportedType,
            "Google credentials from \(source): type \"\(type)\"\(detail) is not supported by this build; "
                + "supported types: \(Self.supportedTypes)"
        )
    }

    /// Whether the credential's type, rather than its content, is what is wrong.
    public var isUnsupportedType: Bool { self.code == .unsupportedType }

    public var description: String { self.message }
}
