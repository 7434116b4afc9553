import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// LiteLLM's key management API (`/key/generate`, `/key/update`, `/key/regenerate`, `/key/block`,
/// `/key/unblock`, `/key/delete`, `/key/info`, `/key/list`), with its field names and response shapes, so
/// scripts written for LiteLLM work. The master key reaches all of it; a virtual key only its own `/key/info`
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
        try AdminJSON.fieldErrors { try Self.apply(fields, to: &record, now: now) }
        let made = try await AdminJSON.storeConflicts { try await self.directory.generate(record) }
        return Self.madeKey(made)
    }

    /// `POST /key/update` with `{"key": <key or hash>, …fields to change}`: the key's fields.
    func update(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let fields = try await AdminJSON.body(request, allowed: Self.generateFields.union(["key"]))
        var record = try self.record(named: fields)
        let now = Date()
        try AdminJSON.fieldErrors { try Self.apply(fields, to: &record, now: now) }
        record.updatedAt = now
        _ = try await AdminJSON.storeConflicts { try await self.directory.updateKey(record) }
        return AdminJSON.response(.object(Self.fields(of: self.directory.key(record.tokenHash) ?? record)))
    }

    /// `POST /key/regenerate` with `{"key": …}`, or `POST /key/{key}/regenerate`: a new secret for the same key
    /// (alias, limits and spend kept); the old one stops working at once. Answers like `/key/generate`.
    func regenerate(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let record: KeyRecord
        if let inPath = context.parameters.get("key") {
            guard let found = self.directory.key(inPath) else { throw AnthropicError.notFound("key: no such key") }
            record = found
        } else {
            record = try self.record(named: try await AdminJSON.body(request, allowed: ["key"]))
        }
        guard let made = try await self.directory.regenerate(hash: record.tokenHash) else {
            throw AnthropicError.notFound("key: no such key")
        }
        return Self.madeKey(made)
    }

    /// `POST /key/block` (or `/key/unblock`) with `{"key": …}`: the key's fields, `blocked` set.
    func block(_ blocked: Bool) -> @Sendable (Request, GatewayRequestContext) async throws -> Response {
        { request, _ in
            var record = try self.record(named: try await AdminJSON.body(request, allowed: ["key"]))
            record.blocked = blocked
            record.updatedAt = Date()
            _ = try await self.directory.updateKey(record)
            return AdminJSON.response(.object(Self.fields(of: self.directory.key(record.tokenHash) ?? record)))
        }
    }

    /// `GET /key/info?key=sk-…` (the key or its hash): `{"key": <hash>, "info": {…}}`. On a virtual key, without
    /// `key`: that key's own.
    func info(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let asked = request.uri.queryParameters.get("key") ?? context.caller?.tokenHash
        guard let asked, let record = self.directory.key(asked) else {
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
        for (_, record) in records { _ = try await self.directory.deleteKey(hash: record.tokenHash) }
        return AdminJSON.response(.object(["deleted_keys": .array(records.map { .string($0.asked) })]))
    }

    /// The key a body's `key` field names (the key itself or its hash); 404 when there is none.
    private func record(named fields: JSONObjectReader) throws -> KeyRecord {
        let asked: String = try AdminJSON.fieldErrors { try fields.required("key") }
        guard let record = self.directory.key(asked) else { throw AnthropicError.notFound("key: no key \(VirtualKey.displayName(asked))") }
        return record
    }

    /// Sets the fields `fields` names; those it leaves out keep their values.
    static func apply(_ fields: JSONObjectReader, to record: inout KeyRecord, now: Date) throws {
        if let alias: String = try fields.optional("key_alias") { record.alias = alias }
        if let user: String = try fields.optional("user_id") { record.userID = user }
        if let team: String = try fields.optional("team_id") { record.teamID = team }
        if let models: [String] = try fields.optional("models") { record.models = models }
        try AdminJSON.applyLimits(fields, to: &record.limits, now: now)
        if let duration = try AdminJSON.duration(fields, "duration") { record.expires = duration.nextReset(after: now) }
        if let metadata = try AdminJSON.metadata(fields) { record.metadata = metadata }
        if let blocked: Bool = try fields.optional("blocked") { record.blocked = blocked }
    }

    /// `/key/generate`'s answer: the key's fields, with the key itself (shown this once).
    private static func madeKey(_ made: (key: String, record: KeyRecord)) -> Response {
        var answer = Self.fields(of: made.record)
        answer["key"] = .string(made.key)
        return AdminJSON.response(.object(answer))
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
