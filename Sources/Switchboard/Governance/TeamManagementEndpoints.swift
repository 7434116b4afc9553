import Foundation
import Hummingbird

/// LiteLLM's team API (`/team/new`, `/team/update`, `/team/delete`, `/team/info`, `/team/list`), with its
/// field names and shapes. Teams carry the same limits as keys; a key in a team must pass both.
struct TeamManagementEndpoints: Sendable {
    let directory: KeyDirectory

    static let teamFields: Set<String> = [
        "team_id", "team_alias", "models", "max_budget", "budget_duration", "rpm_limit", "tpm_limit",
        "max_parallel_requests", "blocked", "metadata",
    ]

    func new(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let fields = try await AdminJSON.body(request, allowed: Self.teamFields)
        let now = Date()
        var team = TeamRecord(teamID: UUID().uuidString.lowercased(), createdAt: now, updatedAt: now)
        try AdminJSON.fieldErrors {
            if let id: String = try fields.optional("team_id") { team.teamID = id }
            try Self.apply(fields, to: &team, now: now)
        }
        try await AdminJSON.storeConflicts { try await self.directory.insertTeam(team) }
        return AdminJSON.response(.object(Self.fields(of: team)))
    }

    func update(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let fields = try await AdminJSON.body(request, allowed: Self.teamFields)
        let id: String = try AdminJSON.fieldErrors { try fields.required("team_id") }
        guard var team = self.directory.team(id: id) else { throw AnthropicError.notFound("team_id: no team \(id)") }
        try AdminJSON.fieldErrors { try Self.apply(fields, to: &team, now: Date()) }
        team.updatedAt = Date()
        _ = try await self.directory.updateTeam(team)
        let updated = self.directory.team(id: id) ?? team
        return AdminJSON.response(.object(["team_id": .string(team.teamID), "data": .object(Self.fields(of: updated))]))
    }

    /// `{"team_ids": […]}`.
    func delete(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let fields = try await AdminJSON.body(request, allowed: ["team_ids"])
        let ids: [String] = try AdminJSON.fieldErrors { try fields.required("team_ids") }
        for id in ids where self.directory.team(id: id) == nil { throw AnthropicError.notFound("team_ids: no team \(id)") }
        for id in ids { _ = try await self.directory.deleteTeam(id: id) }
        return AdminJSON.response(.object(["deleted_teams": .array(ids.map { .string($0) })]))
    }

    /// `GET /team/info?team_id=…`: `{"team_id", "team_info": {…}, "keys": [<hash>, …]}`.
    func info(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let id = request.uri.queryParameters.get("team_id"), let team = self.directory.team(id: id) else {
            throw AnthropicError.notFound("team_id: no such team")
        }
        let keys = self.directory.keys().filter { $0.teamID == id }.map { JSONValue.string($0.tokenHash) }
        return AdminJSON.response(.object([
            "team_id": .string(id), "team_info": .object(Self.fields(of: team)), "keys": .array(keys),
        ]))
    }

    /// `GET /team/list`: every team's fields, as LiteLLM lists them.
    func list(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        AdminJSON.response(.array(self.directory.teams().map { .object(Self.fields(of: $0)) }))
    }

    static func apply(_ fields: JSONObjectReader, to team: inout TeamRecord, now: Date) throws {
        if let alias: String = try fields.optional("team_alias") { team.alias = alias }
        if let models: [String] = try fields.optional("models") { team.models = models }
        try AdminJSON.applyLimits(fields, to: &team.limits, now: now)
        if let blocked: Bool = try fields.optional("blocked") { team.blocked = blocked }
        if let metadata = try AdminJSON.metadata(fields) { team.metadata = metadata }
    }

    static func fields(of team: TeamRecord) -> JSONObject {
        var fields: JSONObject = [
            "team_id": .string(team.teamID), "team_alias": team.alias.map { .string($0) } ?? .null,
            "models": .array(team.models.map { .string($0) }), "spend": .number(team.spend),
        ]
        for (name, value) in AdminJSON.fields(of: team.limits) { fields[name] = value }
        fields["blocked"] = .bool(team.blocked)
        fields["metadata"] = team.metadata
        fields["created_at"] = AdminJSON.time(team.createdAt)
        fields["updated_at"] = AdminJSON.time(team.updatedAt)
        return fields
    }
}
