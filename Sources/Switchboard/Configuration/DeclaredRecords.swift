import Foundation

/// Teams and virtual keys written in the config file (`switchboard.teams`, `switchboard.virtual_keys`), read
/// with the admin API's own fields and checks, so an entry is what `/team/new` or `/key/generate` would take.
/// A key is named by its SHA-256 (`key_hash`) or an environment variable (`key: os.environ/NAME`), never by
/// the key itself: the file is no place for a secret.
enum DeclaredRecords {
    static func team(_ node: ConfigNode) throws -> TeamRecord {
        let (fields, _) = try self.fields(node, allowed: TeamManagementEndpoints.teamFields, separate: [])
        var team = TeamRecord(teamID: "", source: .config, createdAt: Date(), updatedAt: Date())
        try self.located(node) {
            team.teamID = try fields.required("team_id")
            try TeamManagementEndpoints.apply(fields, to: &team, now: Date())
        }
        return team
    }

    static func key(_ node: ConfigNode, resolve: (ConfigNode) throws -> String) throws -> KeyRecord {
        let (fields, separate) = try self.fields(node, allowed: KeyManagementEndpoints.generateFields, separate: ["key", "key_hash"])
        let hash: String
        let name: String
        switch (separate["key"], separate["key_hash"]) {
        case (let keyNode?, nil):
            guard try keyNode.string().hasPrefix("os.environ/") else {
                throw keyNode.error("a key written in the config file is a secret in the file: use key: os.environ/NAME, or key_hash with its SHA-256")
            }
            let secret = try resolve(keyNode)
            (hash, name) = (VirtualKey.hash(secret), VirtualKey.displayName(secret))
        case (nil, let hashNode?):
            hash = try hashNode.string().lowercased()
            guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
                throw hashNode.error("expected the key's SHA-256 as 64 hex digits (printf %s \"$KEY\" | sha256sum)")
            }
            // The key's own characters are unknown; its hash names it instead.
            name = "hash:\(hash.prefix(8))"
        default:
            throw node.error("expected either key: os.environ/NAME or key_hash: <the key's SHA-256>")
        }
        var key = KeyRecord(tokenHash: hash, keyName: name, source: .config, createdAt: Date(), updatedAt: Date())
        try self.located(node) { try KeyManagementEndpoints.apply(fields, to: &key, now: Date()) }
        return key
    }

    /// The entry's fields as the admin API reads them, and the `separate` ones as nodes.
    private static func fields(_ node: ConfigNode, allowed: Set<String>, separate names: Set<String>)
        throws -> (JSONObjectReader, [String: ConfigNode])
    {
        var object: JSONObject = [:]
        var separate: [String: ConfigNode] = [:]
        for (name, value) in try node.mapping() {
            if names.contains(name) {
                separate[name] = value
            } else if allowed.contains(name) {
                object[name] = try value.json()
            } else {
                let known = allowed.union(names).sorted().joined(separator: ", ")
                throw value.error("not a field of this entry (it takes \(known))")
            }
        }
        return (try JSONObjectReader(.object(object)), separate)
    }

    /// Runs `body`, turning a field error into a configuration error at the field's path.
    private static func located(_ node: ConfigNode, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as JSONFieldError {
            throw ConfigurationError(path: ([node.path] + error.path).joined(separator: "."), line: node.line, message: error.problem)
        }
    }
}
