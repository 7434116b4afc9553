/// The routes a configuration resolves to, as a table for people: what `switchboard check` prints.
public struct RouteReport: Sendable {
    public let configuration: GatewayConfiguration

    public init(configuration: GatewayConfiguration) {
        self.configuration = configuration
    }

    public var text: String {
        var rows: [[String]] = [["MODEL NAME", "DEPLOYMENT", "PROVIDER", "UPSTREAM MODEL", "ENDPOINT"]]
        for deployment in self.configuration.deployments {
            rows.append([
                deployment.modelName, deployment.name, deployment.provider.rawValue, deployment.upstreamModel,
                Self.endpoint(of: deployment),
            ])
        }
        for (alias, target) in self.configuration.aliases.sorted(by: { $0.key < $1.key }) {
            rows.append([alias, "", "alias", "→ \(target)", ""])
        }
        let columns = rows[0].count
        let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == columns - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }
            text += cells.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        text += self.googleCloudSummary
        text += self.keySummary
        text += self.routingSummary
        let server = self.configuration.server
        text += "\nlistens on \(server.host):\(server.port); master key "
        text += self.configuration.masterKey == nil ? "not set (no authentication)\n" : "set\n"
        return text
    }

    /// Each distinct Vertex AI project, location and credentials the deployments use, and where each came from.
    private var googleCloudSummary: String {
        var seen: Set<VertexSettings> = []
        var text = ""
        for deployment in self.configuration.deployments {
            guard let vertex = deployment.vertex, seen.insert(vertex).inserted else { continue }
            text += "\nvertex_ai: \(vertex.summary)"
        }
        return text.isEmpty ? "" : text + "\n"
    }

    /// Where each OpenAI-compatible deployment's key came from (never the key).
    private var keySummary: String {
        let lines = self.configuration.deployments.compactMap { deployment in
            deployment.chatCompletions.map { settings in
                "  \(deployment.name): " + (settings.apiKey == nil ? "no key" : "key from \(settings.keyOrigin)")
                    + (settings.apiVersion.map { ", api-version \($0)" } ?? "")
            }
        }
        return lines.isEmpty ? "" : "\nkeys:\n" + lines.joined(separator: "\n") + "\n"
    }

    /// Retries, fallbacks and cooldowns, as `router_settings` set them.
    private var routingSummary: String {
        let router = self.configuration.router
        var text = "\nrouting: \(router.strategy.rawValue), \(router.numRetries) retries, cooldown after more than "
        text += "\(router.allowedFails) failures a minute for \(Self.seconds(router.cooldownTime))"
        if let timeout = router.timeout { text += ", timeout \(Self.seconds(timeout))" }
        text += "\n"
        let chains = [("fallbacks", router.fallbacks), ("context_window_fallbacks", router.contextWindowFallbacks),
                      ("content_policy_fallbacks", router.contentPolicyFallbacks)]
        for (name, fallbacks) in chains {
            for (group, targets) in fallbacks.sorted(by: { $0.key < $1.key }) {
                text += "\(name): \(group) → \(targets.joined(separator: " → "))\n"
            }
        }
        if !router.defaultFallbacks.isEmpty { text += "default_fallbacks: \(router.defaultFallbacks.joined(separator: " → "))\n" }
        return text
    }

    private static func seconds(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }

    private static func endpoint(of deployment: ModelDeployment) -> String {
        switch deployment.provider {
        case .anthropic: deployment.apiBase ?? "https://api.anthropic.com"
        case .mock: "in-process"
        case .gemini: deployment.apiBase ?? AIStudioTransport.defaultBase
        case .openai, .azure, .deepseek, .mistral, .groq, .openrouter, .xai, .togetherAI, .fireworksAI, .cerebras,
            .hostedVLLM, .ollamaChat, .ollama, .lmStudio:
            deployment.chatCompletions.map { settings in
                settings.completionsURL(model: deployment.upstreamModel, dialect: deployment.provider.chatCompletionsDialect!)
            } ?? ""
        case .vertexAI:
            VertexEndpoint(location: deployment.vertex?.location ?? "global", apiBase: deployment.apiBase)
                .describe(project: deployment.vertex?.project)
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        String(self.reversed().drop { $0 == " " }.reversed())
    }
}
