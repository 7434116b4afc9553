import Hummingbird
import NIOCore

/// `GET /health/ready`: ready while every model group can take a request — a deployment not cooling, or a
/// group to fall back to — and which deployments are cooling, so an operator sees why before it fails.
struct Readiness: Sendable {
    let routes: RouteTable
    let settings: RouterSettings
    let router: ModelRouter

    func response() -> Response {
        let groups = self.routes.groups
        let statuses = self.router.health(of: groups)
        let stranded = groups.filter { group in
            let healthy = statuses.contains { $0.group == group.name && $0.isHealthy }
            return !healthy && self.settings.fallbackGroups(from: group.name, after: .unavailable).isEmpty
        }
        var writer = JSONWriter()
        writer.object { writer in
            writer.field("status", stranded.isEmpty ? "ready" : "unavailable")
            writer.field("models", self.routes.groups.reduce(0) { $0 + $1.deployments.count })
            writer.key("cooling")
            writer.array { writer in
                for status in statuses where status.phaseName != "healthy" {
                    writer.object { writer in
                        writer.field("model_group", status.group)
                        writer.field("deployment", status.deployment)
                        writer.field("state", status.phaseName)
                        if let seconds = status.secondsUntilRetry { writer.field("retry_in_seconds", (seconds * 10).rounded(.up) / 10) }
                    }
                }
            }
            writer.key("unavailable_groups")
            writer.array { writer in
                for group in stranded { writer.value(JSONValue.string(group.name)) }
            }
        }
        return Response(
            status: stranded.isEmpty ? .ok : .serviceUnavailable,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes))
        )
    }
}
