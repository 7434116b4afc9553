import Foundation
import _CryptoExtras

extension FakeGoogleAuthority {
    /// Why a key file cannot be registered.
    public struct KeyFileError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Registers the service account of a key file made elsewhere (an end-to-end test makes its own key):
    /// its `client_email`, `private_key_id` and the public half of its `private_key`. Its `token_uri` is
    /// not read: the authority is where the test points it.
    public func registerServiceAccount(keyFile json: Data) throws {
        guard let fields = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
            fields["type"] as? String == "service_account",
            let email = fields["client_email"] as? String,
            let privateKeyID = fields["private_key_id"] as? String,
            let pem = fields["private_key"] as? String
        else {
            throw KeyFileError(description: "expected a service_account key file with client_email, private_key_id and private_key")
        }
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw KeyFileError(description: "private_key is not an RSA key in PEM: \(error)")
        }
        let projectID = fields["project_id"] as? String ?? "fake-project"
        self.state.withLock { state in
            state.serviceAccounts[email] = ServiceAccount(
                email: email, projectID: projectID, privateKeyID: privateKeyID, publicKey: key.publicKey
            )
        }
    }
}
