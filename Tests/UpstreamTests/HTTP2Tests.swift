import NIOCore
import SwitchboardTesting
import Testing

@testable import Upstream

/// One suite, serialized, for everything that starts nginx: starting it blocks a thread of the
/// cooperative pool (openssl, then polling its port), and several at once could take the whole pool.
@Suite(
    "HTTP/2, TLS and a CONNECT proxy against nginx",
    .serialized,
    .enabled(if: LocalNginx.isAvailable, "needs Debian's nginx and openssl")
)
struct HTTP2Tests {
    @Test("HTTP/2 is used when the server offers it, and concurrent requests share one connection")
    func multiplexedOverOneConnection() async throws {
        let nginx = try LocalNginx.start()
        defer { nginx.stop() }
        let client = UpstreamClient(configuration: .init(proxy: .none, caBundlePath: nginx.certificatePath))
        let answers = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for index in 0..<10 {
                group.addTask {
                    let response = try await client.execute(UpstreamRequest(url: "\(nginx.baseURL)/r\(index)"))
                    return (response.httpVersion, String(buffer: try await response.collectBody(upTo: 256)))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 10)
        #expect(answers.allSatisfy { $0.0 == "2" })
        #expect(answers.allSatisfy { $0.1.hasSuffix("protocol=HTTP/2.0\n") })
        let connections = Set(answers.map { $0.1.prefix { $0 != " " } })
        #expect(connections.count == 1, "all ten should multiplex over one connection: \(connections)")
        await client.shutdown()
    }

    @Test("a certificate nobody vouches for is a tlsFailure carrying curl's reason")
    func untrustedCertificate() async throws {
        let nginx = try LocalNginx.start()
        defer { nginx.stop() }
        let client = UpstreamClient(configuration: .init(proxy: .none, caBundlePath: nil))
        let error = await #expect(throws: UpstreamError.self) {
            _ = try await client.execute(UpstreamRequest(url: "\(nginx.baseURL)/"))
        }
        #expect(error?.kind == .tlsFailure)
        #expect(error?.message.isEmpty == false)
        // The failed transfer, with its request body and key, is freed (see TransferLifetimeTests).
        let request = TransferLifetimeTests.request(to: "\(nginx.baseURL)/")
        let watched = await TransferLifetimeTests.fail(request, on: client, with: .tlsFailure)
        #expect(await watched.isFreed())
        await client.shutdown()
    }

    /// The proxy's own reply to `CONNECT` ("200 Connection established") must not be taken for the
    /// upstream's response head.
    @Test("HTTPS through tinyproxy gets the upstream's head, not the proxy's reply to CONNECT")
    func httpsThroughConnectProxy() async throws {
        let nginx = try LocalNginx.start()
        defer { nginx.stop() }
        // Not skipped when tinyproxy is missing: `make test-setup` installs it.
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
