import Foundation
import _CryptoExtras

/// The JWT a service account presents to its token URI (RFC 7523 JWT-bearer grant), as google-auth's
/// `_make_authorization_grant_assertion` builds it: RS256 over `header.claims`, `kid` = `private_key_id`,
/// one hour of validity, and `aud` = Google's token endpoint (google-auth's constant, whatever the file's
/// `token_uri`, where the grant is sent).
enum ServiceAccountAssertion {
    static let lifetimeSeconds = 3600

    static func privateKey(pem: String) throws -> _RSA.Signing.PrivateKey {
        try _RSA.Signing.PrivateKey(pemRepresentation: pem)
    }

    /// The signed assertion, valid from `issuedAt` (seconds since 1970).
    static func make(for account: GoogleCredentials.ServiceAccount, scope: String, issuedAt: Int) throws -> String {
        var header = JSONWriter()
        header.object { writer in
            writer.field("alg", "RS256")
            writer.field("typ", "JWT")
            writer.field("kid", account.privateKeyID)
        }
        var claims = JSONWriter()
        claims.object { writer in
            writer.field("iss", account.clientEmail)
            writer.field("scope", scope)
            writer.field("aud", GoogleCredentials.defaultTokenURI)
            writer.field("iat", issuedAt)
            writer.field("exp", issuedAt + Self.lifetimeSeconds)
        }
        let signingInput = Self.base64URL(Data(header.bytes)) + "." + Self.base64URL(Data(claims.bytes))
        let key = try Self.privateKey(pem: account.privateKeyPEM)
        let signature = try key.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + Self.base64URL(signature.rawRepresentation)
    }

    /// Base64url without padding (RFC 7515 §2).
    static func base64URL(_ data: Data) -> String {
        var text = data.base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}
