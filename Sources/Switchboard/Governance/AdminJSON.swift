import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Reading and writing the admin API's JSON (`/key/*`, `/team/*`), checked like the Messages API: an
/// unknown field, a wrong type, a negative limit or a bad duration is a 400 naming the field.
enum AdminJSON {
    /// The request's JSON object, refusing fields outside `allowed`.
    static func body(_ request: Request, allowed: Set<String>) async throws -> JSONObjectReader {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        let json: JSONValue
        do {
            json = bytes.readableBytes == 0 ? .object([:]) : try bytes.withUnsafeReadableBytes { try JSONParser.parse($0) }
        } catch {
            throw AnthropicError.invalidRequest("The request body is not valid JSON: \(error)")
        }
        guard case .object(let object) = json else { throw AnthropicError.invalidRequest("body: Input should be an object") }
        if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
            throw AnthropicError.invalidRequest(
                "\(unknown): Extra inputs are not permitted (this build reads \(allowed.sorted().joined(separator: ", ")))"
            )
        }
        return try JSONObjectReader(json)
    }

    /// Runs `body`, turning a field error into the 400 that names the field.
    static func fieldErrors<Value>(_ body: () throws -> Value) throws -> Value {
        do {
            return try body()
        } catch let error as JSONFieldError {
            throw AnthropicError.invalidRequest(error.message)
        }
    }

    /// Runs a store change, turning its conflict (a duplicate alias, an unknown team) into a 400.
    static func storeConflicts<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch let conflict as GovernanceStoreConflict {
            throw AnthropicError.invalidRequest(conflict.description)
        }
    }

    /// Sets the limits `fields` name: budget and its period (which starts now), and the rates.
    static func applyLimits(_ fields: JSONObjectReader, to limits: inout SpendLimits, now: Date) throws {
        if let budget: Double = try fields.optional("max_budget") { limits.maxBudget = try self.nonNegative(budget, "max_budget") }
        if let duration = try self.duration(fields, "budget_duration") {
            limits.budgetDuration = duration
            limits.budgetResetAt = duration.nextReset(after: now)
        }
        if let rpm: Int = try fields.optional("rpm_limit") { limits.rpmLimit = try self.nonNegative(rpm, "rpm_limit") }
        if let tpm: Int = try fields.optional("tpm_limit") { limits.tpmLimit = try self.nonNegative(tpm, "tpm_limit") }
        if let parallel: Int = try fields.optional("max_parallel_requests") {
            limits.maxParallelRequests = try self.nonNegative(parallel, "max_parallel_requests")
        }
    }

    static func duration(_ fields: JSONObjectReader, _ field: String) throws -> BudgetDuration? {
        guard let text: String = try fields.optional(field) else { return nil }
        guard let duration = BudgetDuration(text) else {
            throw JSONFieldError(path: [field], problem: "expected a duration such as 30s, 15m, 1h, 7d, 30d or 1mo; got \"\(text)\"")
        }
        return duration
    }

    static func metadata(_ fields: JSONObjectReader) throws -> JSONValue? {
        guard let metadata: JSONValue = try fields.optional("metadata") else { return nil }
        guard case .object = metadata else { throw JSONFieldError(path: ["metadata"], problem: "Input should be an object") }
        return metadata
    }

    static func nonNegative<Number: Comparable & Numeric>(_ value: Number, _ field: String) throws -> Number {
        guard value >= 0 else { throw JSONFieldError(path: [field], problem: "Input should be greater than or equal to 0") }
        return value
    }

    /// The limits in LiteLLM's names.
    static func fields(of limits: SpendLimits) -> JSONObject {
        [
            "max_budget": limits.maxBudget.map { .number($0) } ?? .null,
            "budget_duration": limits.budgetDuration.map { .string($0.description) } ?? .null,
            "budget_reset_at": self.time(limits.budgetResetAt),
            "rpm_limit": limits.rpmLimit.map { .number(Double($0)) } ?? .null,
            "tpm_limit": limits.tpmLimit.map { .number(Double($0)) } ?? .null,
            "max_parallel_requests": limits.maxParallelRequests.map { .number(Double($0)) } ?? .null,
        ]
    }

    static func time(_ date: Date?) -> JSONValue {
        date.map { .string(UTCTime.timestamp($0)) } ?? .null
    }

    static func response(_ value: JSONValue) -> Response {
        var writer = JSONWriter()
        writer.value(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes))
        )
    }
}
