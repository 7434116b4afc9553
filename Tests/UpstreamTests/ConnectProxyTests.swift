import NIOCore
import Testing
import Upstream

/// HTTPS through a real CONNECT proxy: the proxy's own reply to `CONNECT` ("200 Connection
/// established") must not be taken for the upstream's response head.
@Suite("HTTPS through a CONNECT proxy", .serialized)
struct ConnectProxyTests {
    @Test("the upstream's head arrives through tinyproxy, not the proxy's reply to CONNECT")
    func httpsThroughTinyproxy() async throws {
        // Not skipped when something is missing: `make test-setup` installs both.
        try #require(LocalNginx.isAvailable, "needs Debian's nginx and openssl (`make test-setup`)")
        let nginx = try LocalNginx.start()
        defer { nginx.stop() }
        let proxy = try LocalTinyproxy.start(allowingConnectTo: nginx.port)
        defer { proxy.stop() }
        let client = UpstreamClient(
            configuration: .init(proxy: ProxySettings(httpsProxy: proxy.url), caBundlePath: nginx.certificatePath)
        )

        for attempt in 0..<2 {  // the second rides the tunnel the first opened
            let response = try await client.execute(UpstreamRequest(url: "\(nginx.baseURL)/through/\(attempt)"))
            #expect(response.status == 200)
            #expect(response.httpVersion == "2")
            #expect(response.headers["server"]?.hasPrefix("nginx") == true, "\(response.headers)")
            #expect(response.headers["proxy-agent"] == nil, "the proxy's CONNECT reply leaked into the head")
            let body = String(buffer: try await response.collectBody(upTo: 256))
            #expect(body.hasSuffix("protocol=HTTP/2.0\n"), "\(body)")
        }
        #expect(proxy.log().contains("CONNECT 127.0.0.1:\(nginx.port)"), "the request did not go through the proxy")
        await client.shutdown()
    }
}
