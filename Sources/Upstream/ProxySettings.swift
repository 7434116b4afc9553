/// Which proxy a request goes through, read from the usual environment variables.
///
/// curl reads these variables itself, but we read them once, explicitly, so the choice is visible and
/// testable: `http_proxy` (lower case only, as curl does, since `HTTP_PROXY` can be set by a CGI
/// request header), `HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`/`all_proxy`, and `NO_PROXY`/`no_proxy`.
public struct ProxySettings: Sendable, Hashable {
    public var httpProxy: String?
    public var httpsProxy: String?
    public var allProxy: String?
    /// Comma-separated hosts that bypass the proxy, in curl's `CURLOPT_NOPROXY` syntax.
    public var noProxy: String?

    public static let none = ProxySettings()

    public init(httpProxy: String? = nil, httpsProxy: String? = nil, allProxy: String? = nil, noProxy: String? = nil) {
        self.httpProxy = httpProxy
        self.httpsProxy = httpsProxy
        self.allProxy = allProxy
        self.noProxy = noProxy
    }

    public init(environment: [String: String]) {
        func value(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        self.init(
            httpProxy: value("http_proxy"),
            httpsProxy: value("HTTPS_PROXY", "https_proxy"),
            allProxy: value("ALL_PROXY", "all_proxy"),
            noProxy: value("NO_PROXY", "no_proxy")
        )
    }

    /// The proxy for `url`, or nil to connect directly.
    func proxy(for url: String) -> String? {
        let scheme = url.prefix { $0 != ":" }.lowercased()
        let specific = scheme == "https" ? self.httpsProxy : scheme == "http" ? self.httpProxy : nil
        return specific ?? self.allProxy
    }
}
