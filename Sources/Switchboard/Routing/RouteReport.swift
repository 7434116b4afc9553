/// The routes a configuration resolves to, as a table for people: what `switchboard check` prints.
public struct RouteReport: Sendable {
    public let configuration: GatewayConfiguration

    public init(configuration: GatewayConfiguration) {
        self.configuration = configuration
    }

    public var text: String {
        var rows: [[String]] = [["MODEL NAME", "PROVIDER", "UPSTREAM MODEL", "ENDPOINT"]]
        for deployment in self.configuration.deployments {
            rows.append([
                deployment.modelName, deployment.provider.rawValue, deployment.upstreamModel,
                Self.endpoint(of: deployment),
            ])
        }
        for (alias, target) in self.configuration.aliases.sorted(by: { $0.key < $1.key }) {
            rows.append([alias, "alias", "→ \(target)", ""])
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == 3 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }
            text += cells.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        let server = self.configuration.server
        text += "\nlistens on \(server.host):\(server.port); master key "
        text += self.configuration.masterKey == nil ? "not set (no authentication)\n" : "set\n"
        return text
    }

    private static func endpoint(of deployment: ModelDeployment) -> String {
        switch deployment.provider {
        case .anthropic: deployment.apiBase ?? "https://api.anthropic.com"
        case .mock: "in-process"
        case .gemini: deployment.apiBase ?? "https://generativelanguage.googleapis.com/v1beta"
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        String(self.reversed().drop { $0 == " " }.reversed())
    }
}
