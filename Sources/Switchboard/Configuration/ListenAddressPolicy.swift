import Foundation

/// Refuses to serve the operator's provider keys to a network by accident: listening on anything but
/// loopback needs a master key, or an explicit `--allow-unauthenticated` /
/// `switchboard.allow_unauthenticated: true`.
public enum ListenAddressPolicy {
    /// Throws, saying how to fix it, when `host` reaches beyond this machine and nothing guards it;
    /// returns a warning to log when it is unguarded as allowed.
    public static func check(
        host: String,
        masterKey: String?,
        allowUnauthenticated: Bool
    ) throws(ConfigurationError) -> String? {
        guard masterKey == nil, !Self.isLoopback(host) else { return nil }
        if allowUnauthenticated {
            return "serving \(host) without a master key, as allowed: anyone who reaches it uses your provider keys"
        }
        throw ConfigurationError(
            path: "",
            message: """
                refusing to listen on \(host) without a master key: anyone who can reach that address could \
                spend your provider keys. Set one — general_settings.master_key in the config (for example \
                `master_key: os.environ/LITELLM_MASTER_KEY`), or the LITELLM_MASTER_KEY environment variable — \
                and clients send it as x-api-key or Authorization: Bearer. To serve without authentication on \
                purpose (a private network, your own auth proxy in front), pass --allow-unauthenticated or set \
                switchboard.allow_unauthenticated: true. To stay on this machine, use --host 127.0.0.1.
                """
        )
    }

    /// Whether `host` only reaches this machine: `localhost`, 127.0.0.0/8, `::1` (also bracketed, and as an
    /// IPv4-mapped address). Any other name may resolve to a public address, so it counts as exposed.
    public static func isLoopback(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" || name == "localhost." { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, name, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes == Array(repeating: 0, count: 15) + [1] { return true }
        return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
    }
}
