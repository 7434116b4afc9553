import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// LiteLLM's key management API (`/key/generate`, `/key/info`, `/key/list`, `/key/delete`), with its field
/// names and response shapes, so scripts written for LiteLLM work. Only the master key reaches it
/// (``AuthenticationMiddleware``). Input is checked like the Messages API: an unknown field, a wrong type, a
/// negative budget or a bad duration is a 400 naming the field.
struct KeyManagementEndpoints: Sendable {
    let directory: KeyDirectory

    /// The `/key/generate` fields this build reads.
    static let generateFields: Set<String> = [
        "key_alias", "user_id", "team_id", "models", "max_budget", "budget_duration", "rpm_limit", "tpm_limit",
        "max_parallel_requests", "duration", "metadata", "blocked",
    ]

    func generate(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let fields = try await AdminJSON.body(request, allowed: Self.generateFields)
        let now = Date()
        var record = KeyRecord(tokenHash: "", keyName: "", createdAt: now, updatedAt: now)
        try AdminJSON.fieldErrors {
            record.alias = try fields.optional("key_alias")
            record.userID = try fields.optional("user_id")
            record.teamID = try fields.optional("team_id")
            record.models = try fields.optional("models") ?? []
            try AdminJSON.applyLimits(fields, to: &record.limits, now: now)
            record.expires = try AdminJSON.duration(fields, "duration")?.nextReset(after: now)
            record.metadata = try AdminJSON.metadata(fields) ?? record.metadata
            record.blocked = try fields.optional("blocked") ?? false
        }
        let made: (key: String, record: KeyRecord)
        do {
            made = try self.directory.generate(record)
        } catch let conflict as GovernanceStoreConflict {
            throw AnthropicError.invalidRequest(conflict.description)
        }
        var answer = Self.fields(of: made.record)
        answer["key"] = .string(made.key)
        return AdminJSON.response(.object(answer))
    }

    /// `GET /key/info?key=sk-…` (the key or its hash): `{"key": <hash>, "info": {…}}`.
    func info(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let asked = request.uri.queryParameters.get("key"), let record = self.directory.key(asked) else {
            throw AnthropicError.notFound("key: no such key")
        }
        return AdminJSON.response(.object(["key": .string(record.tokenHash), "info": .object(Self.fields(of: record))]))
    }

    /// `GET /key/list`: the keys' hashes, as LiteLLM lists them (`return_full_object=true` for the records).
    func list(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let full = request.uri.queryParameters.get("return_full_object") == "true"
        let keys = self.directory.keys()
        let listed: [JSONValue] = keys.map { full ? .object(Self.fields(of: $0)) : .string($0.tokenHash) }
        return AdminJSON.response(.object([
            "keys": .array(listed), "total_count": .number(Double(keys.count)), "current_page": .number(1),
            "total_pages": .number(1),
        ]))
    }

    /// `POST /key/delete` with `{"keys": [key or hash, …]}` and/or `{"key_aliases": […]}`: `{"deleted_keys": […]}`.
    func delete(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let fields = try await AdminJSON.body(request, allowed: ["keys", "key_aliases"])
        let (keys, aliases): ([String], [String]) = try AdminJSON.fieldErrors {
            (try fields.optional("keys") ?? [], try fields.optional("key_aliases") ?? [])
        }
        var records: [(asked: String, record: KeyRecord)] = []
        for asked in keys {
            guard let record = self.directory.key(asked) else { throw AnthropicError.notFound("keys: no key \(VirtualKey.displayName(asked))") }
            records.append((asked, record))
        }
        for alias in aliases {
            guard let record = self.directory.key(alias: alias) else { throw AnthropicError.notFound("key_aliases: no key \(alias)") }
            records.append((alias, record))
        }
        for (_, record) in records { _ = try self.directory.deleteKey(hash: record.tokenHash) }
        return AdminJSON.response(.object(["deleted_keys": .array(records.map { .string($0.asked) })]))
    }

    // MARK: - JSON

    /// A key's fields in LiteLLM's names; `token` is the hash (never the key).
    static func fields(of record: KeyRecord) -> JSONObject {
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        var fields: JSONObject = [
            "token": .string(record.tokenHash), "key_name": .string(record.keyName), "key_alias": text(record.alias),
            "user_id": text(record.userID), "team_id": text(record.teamID), "models": .array(record.models.map { .string($0) }),
            "spend": .number(record.spend),
        ]
        for (name, value) in AdminJSON.fields(of: record.limits) { fields[name] = value }
        fields["expires"] = AdminJSON.time(record.expires)
        fields["blocked"] = .bool(record.blocked)
        fields["metadata"] = record.metadata
        fields["created_at"] = AdminJSON.time(record.createdAt)
        fields["updated_at"] = AdminJSON.time(record.updatedAt)
        return fields
    }
}
