import Foundation
import Hummingbird

/// `GET /spend/logs`: the audit log, newest first, in LiteLLM's field names (`api_key` is the key's name,
/// `sk-...abcd`, never the key). Filters: `request_id`, `session_id`, `api_key` (a key, its hash or its
/// name), `team_id`, `user_id`; `limit` (default 100, at most 10,000). What finished in the last 100 ms is
/// written first, so a client sees its own request.
struct SpendLogEndpoint: Sendable {
    let directory: KeyDirectory

    func logs(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = query.get("limit").map { Int($0) } ?? 100
        guard let limit, (1...10_000).contains(limit) else {
            throw AnthropicError.invalidRequest("limit: expected a whole number from 1 to 10000")
        }
        try await self.directory.flush()
        let filter = SpendLogFilter(
            requestID: query.get("request_id"),
            sessionID: query.get("session_id"),
            teamID: query.get("team_id"),
            userID: query.get("user_id"),
            key: query.get("api_key").map(self.directory.spendLogKey)
        )
        let rows = try await self.directory.spendLogs(filter, limit: limit)
        return AdminJSON.response(.array(rows.map { .object(Self.fields(of: $0)) }))
    }

    static func fields(of row: SpendLogRow) -> JSONObject {
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        func time(_ seconds: Double) -> JSONValue { AdminJSON.time(Date(timeIntervalSince1970: seconds)) }
        return [
            "request_id": .string(row.requestID), "startTime": time(row.startTime), "endTime": time(row.endTime),
            "api_key": text(row.keyName), "key_alias": text(row.keyAlias), "team_id": text(row.teamID), "user": text(row.userID),
            "model_group": text(row.modelGroup), "model_id": text(row.deployment), "custom_llm_provider": text(row.provider),
            "model": text(row.model), "prompt_tokens": .number(Double(row.inputTokens + row.cacheReadTokens + row.cacheWriteTokens)),
            "completion_tokens": .number(Double(row.outputTokens)),
            "total_tokens": .number(Double(row.inputTokens + row.cacheReadTokens + row.cacheWriteTokens + row.outputTokens)),
            "cache_read_input_tokens": .number(Double(row.cacheReadTokens)),
            "cache_creation_input_tokens": .number(Double(row.cacheWriteTokens)),
            "thinking_tokens": .number(Double(row.thinkingTokens)), "spend": .number(row.spend),
            "status": .string(row.status < 400 ? "success" : "failure"), "status_code": .number(Double(row.status)),
            "error_type": text(row.errorType), "session_id": text(row.sessionID), "duration_ms": .number(row.durationMS),
            "attempts": .number(Double(row.attempts)),
        ]
    }
}
