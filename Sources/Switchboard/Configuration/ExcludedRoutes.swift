/// Requests left out of spans and of the access log: by default the operational routes — Prometheus
/// scrapes, health probes, Claude Code's `HEAD /api/hello` warm-up — which would otherwise drown the
/// requests worth reading. Metrics still count them.
///
/// Written as in the YAML (`switchboard.excluded_routes`) and in `SWITCHBOARD_EXCLUDED_ROUTES`: a path
/// (`/metrics`, any method) or a method and a path (`HEAD /api/hello`), matched exactly.
public struct ExcludedRoutes: Sendable, Equatable {
    public struct Route: Sendable, Hashable {
        /// Nil matches every method.
        public var method: String?
        public var path: String

        public init(method: String?, path: String) {
            self.method = method
            self.path = path
        }

        /// `/path` or `METHOD /path`; nil for anything else.
        public init?(parsing entry: String) {
            let words = entry.split(separator: " ")
            switch words.count {
            case 1 where words[0].hasPrefix("/"):
                self.init(method: nil, path: String(words[0]))
            case 2 where words[1].hasPrefix("/") && words[0].allSatisfy({ $0.isASCII && $0.isLetter }):
                self.init(method: words[0].uppercased(), path: String(words[1]))
            default:
                return nil
            }
        }
    }

    /// What an entry looks like, for error messages.
    static let expectedForm = "a path such as /metrics, or a method and a path such as HEAD /api/hello"

    public var routes: Set<Route>

    public init(_ routes: Set<Route>) {
        self.routes = routes
    }

    /// `/metrics`, `/health`, `/health/ready` and `HEAD /api/hello`.
    public static let operational = ExcludedRoutes([
        Route(method: nil, path: "/metrics"),
        Route(method: nil, path: "/health"),
        Route(method: nil, path: "/health/ready"),
        Route(method: "HEAD", path: "/api/hello"),
    ])

    /// Every request is traced and logged.
    public static let empty = ExcludedRoutes([])

    /// Whether a request for `path` with `method` is left out.
    public func contains(method: String, path: String) -> Bool {
        self.routes.contains(Route(method: nil, path: path)) || self.routes.contains(Route(method: method, path: path))
    }
}
