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
        let fields = try await Self.body(request, allowed: Self.generateFields)
        let now = Date()
        var record = KeyRecord(tokenHash: "", keyName: "", createdAt: now, updatedAt: now)
        do {
            record.alias = try fields.optional("key_alias")
            record.userID = try fields.optional("user_id")
            record.teamID = try fields.optional("team_id")
            record.models = try fields.optional("models") ?? []
            record.limits.maxBudget = try Self.nonNegative(fields.optional("max_budget"), "max_budget")
            if let text: String = try fields.optional("budget_duration") {
                guard let duration = BudgetDuration(text) else { throw Self.badDuration("budget_duration", text) }
                record.limits.budgetDuration = duration
                record.limits.budgetResetAt = duration.nextReset(after: now)
            }
            record.limits.rpmLimit = try Self.nonNegative(fields.optional("rpm_limit"), "rpm_limit")
            record.limits.tpmLimit = try Self.nonNegative(fields.optional("tpm_limit"), "tpm_limit")
            record.limits.maxParallelRequests = try Self.nonNegative(fields.optional("max_parallel_requests"), "max_parallel_requests")
            if let text: String = try fields.optional("duration") {
                guard let duration = BudgetDuration(text) else { throw Self.badDuration("duration", text) }
                record.expires = duration.nextReset(after: now)
            }
            if let metadata: JSONValue = try fields.optional("metadata") {
                guard case .object = metadata else { throw JSONFieldError(path: ["metadata"], problem: "Input should be an object") }
                record.metadata = metadata
            }
            record.blocked = try fields.optional("blocked") ?? false
        } catch let error as JSONFieldError {
            throw AnthropicError.invalidRequest(error.message)
        }
        let made: (key: String, record: KeyRecord)
        do {
            made = try self.directory.generate(record)
        } catch let conflict as GovernanceStoreConflict {
            throw AnthropicError.invalidRequest(conflict.description)
        }
        var answer = Self.fields(of: made.record)
        answer["key"] = .string(made.key)
        return Self.json(.object(answer))
    }

    /// `GET /key/info?key=sk-…` (the key or its hash): `{"key": <hash>, "info": {…}}`.
    func info(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let asked = request.uri.queryParameters.get("key"), let record = self.directory.key(asked) else {
            throw AnthropicError.notFound("key: no such key")
        }
        return Self.json(.object(["key": .string(record.tokenHash), "info": .object(Self.fields(of: record))]))
    }

    /// `GET /key/list`: the keys' hashes, as LiteLLM lists them (`return_full_object=true` for the records).
    func list(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let full = request.uri.queryParameters.get("return_full_object") == "true"
        let keys = self.directory.keys()
        let listed: [JSONValue] = keys.map { full ? .object(Self.fields(of: $0)) : .string($0.tokenHash) }
        return Self.json(.object([
            "keys": .array(listed), "total_count": .number(Double(keys.count)), "current_page": .number(1),
            "total_pages": .number(1),
        ]))
    }

    /// `POST /key/delete` with `{"keys": [key or hash, …]}` and/or `{"key_aliases": […]}`: `{"deleted_keys": […]}`.
    func delete(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let fields = try await Self.body(request, allowed: ["keys", "key_aliases"])
        let keys: [String]
        let aliases: [String]
        do {
            keys = try fields.optional("keys") ?? []
            aliases = try fields.optional("key_aliases") ?? []
        } catch let error as JSONFieldError {
            throw AnthropicError.invalidRequest(error.message)
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
        return Self.json(.object(["deleted_keys": .array(records.map { .string($0.asked) })]))
    }

    // MARK: - JSON

    /// A key's fields in LiteLLM's names; `token` is the hash (never the key).
    static func fields(of record: KeyRecord) -> JSONObject {
        func number(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }
        func integer(_ value: Int?) -> JSONValue { value.map { .number(Double($0)) } ?? .null }
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        func time(_ value: Date?) -> JSONValue { value.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null }
        return [
            "token": .string(record.tokenHash), "key_name": .string(record.keyName), "key_alias": text(record.alias),
            "user_id": text(record.userID), "team_id": text(record.teamID), "models": .array(record.models.map { .string($0) }),
            "spend": .number(record.spend), "max_budget": number(record.limits.maxBudget),
            "budget_duration": text(record.limits.budgetDuration?.description),
            "budget_reset_at": time(record.limits.budgetResetAt), "rpm_limit": integer(record.limits.rpmLimit),
            "tpm_limit": integer(record.limits.tpmLimit), "max_parallel_requests": integer(record.limits.maxParallelRequests),
            "expires": time(record.expires), "blocked": .bool(record.blocked), "metadata": record.metadata,
            "created_at": time(record.createdAt), "updated_at": time(record.updatedAt),
        ]
    }

    private static func body(_ request: Request, allowed: Set<String>) async throws -> JSONObjectReader {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        let json: JSONValue
        do {
            json = bytes.readableBytes == 0 ? .object([:]) : try bytes.withUnsafeReadableBytes { try JSONParser.parse($0) }
        } catch {
            throw AnthropicError.invalidRequest("The request body is not valid JSON: \(error)")
        }
        guard case .object(let object) = json else { throw AnthropicError.invalidRequest("body: Input should be an object") }
        if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
            throw AnthropicError.invalidRequest("\(unknown): Extra inputs are not permitted (this build reads \(allowed.sorted().joined(separator: ", ")))")
        }
        return try JSONObjectReader(json)
    }

    private static func nonNegative<Number: Comparable & Numeric>(_ value: Number?, _ field: String) throws -> Number? {
        guard let value else { return nil }
        guard value >= 0 else { throw JSONFieldError(path: [field], problem: "Input should be greater than or equal to 0") }
        return value
    }

    private static func badDuration(_ field: String, _ text: String) -> JSONFieldError {
        JSONFieldError(path: [field], problem: "expected a duration such as 30s, 15m, 1h, 7d, 30d or 1mo; got \"\(text)\"")
    }

    private static func json(_ value: JSONValue) -> Response {
        var writer = JSONWriter()
        writer.value(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes))
        )
    }
}
