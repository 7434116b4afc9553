import SwitchboardTesting
import Testing
import Upstream

@Suite("HTTP/2 and TLS against nginx", .serialized, .enabled(if: LocalNginx.isAvailable, "needs Debian's nginx and openssl"))
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
        await client.shutdown()
    }
}
