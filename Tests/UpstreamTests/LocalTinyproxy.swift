import Foundation

/// tinyproxy (Debian's package) as a CONNECT proxy on 127.0.0.1, in the foreground, with its own
/// configuration and port: a system tinyproxy service, if one runs, is neither used nor disturbed.
struct LocalTinyproxy {
    static let binary = "/usr/bin/tinyproxy"

    let port: Int
    private let process: Process
    private let directory: URL

    var url: String { "http://127.0.0.1:\(self.port)" }

    /// Starts a proxy that tunnels to `connectPort` on loopback only.
    static func start(allowingConnectTo connectPort: Int) throws -> LocalTinyproxy {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ProxyError(message: "\(binary) is missing: install Debian's tinyproxy (`make test-setup`)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinyproxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let port = try LocalNginx.freePort()
        // No User/Group: it runs as whoever runs the tests. `Connect` logging names each tunnel.
        let configuration = """
            Port \(port)
            Listen 127.0.0.1
            Timeout 30
            MaxClients 16
            Allow 127.0.0.1
            ConnectPort \(connectPort)
            LogFile "\(directory.path)/tinyproxy.log"
            LogLevel Connect
            """
        let configurationPath = directory.appendingPathComponent("tinyproxy.conf").path
        try configuration.write(toFile: configurationPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-d", "-c", configurationPath]
        try process.run()
        let proxy = LocalTinyproxy(port: port, process: process, directory: directory)
        for _ in 0..<200 {
            if LocalNginx.canConnect(port: port) { return proxy }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.025)
        }
        proxy.stop()
        throw ProxyError(message: "tinyproxy did not start listening on port \(port)")
    }

    /// What tinyproxy logged so far.
    func log() -> String {
        let path = self.directory.appendingPathComponent("tinyproxy.log").path
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    func stop() {
        kill(self.process.processIdentifier, SIGKILL)  // as LocalNginx: SIGTERM may be blocked in a child
        self.process.waitUntilExit()
        try? FileManager.default.removeItem(at: self.directory)
    }

    struct ProxyError: Error, CustomStringConvertible {
        let message: String
        var description: String { self.message }
    }
}
