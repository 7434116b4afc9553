import Foundation

/// nginx (Debian's package) serving HTTPS with HTTP/2 on 127.0.0.1, with a certificate made for the
/// test; each answer names the nginx connection number and protocol that carried it.
struct LocalNginx {
    static let binary = "/usr/sbin/nginx"
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: binary) && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
    }

    let port: Int
    let certificatePath: String
    private let process: Process
    private let directory: URL

    var baseURL: String { "https://127.0.0.1:\(self.port)" }

    static func start() throws -> LocalNginx {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        try run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ])
        let port = try freePort()
        let configuration = """
            daemon off;
            master_process off;
            worker_processes 1;
            error_log stderr error;
            pid \(directory.path)/nginx.pid;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(directory.path);
                proxy_temp_path \(directory.path);
                fastcgi_temp_path \(directory.path);
                uwsgi_temp_path \(directory.path);
                scgi_temp_path \(directory.path);
                server {
                    listen 127.0.0.1:\(port) ssl http2;
                    ssl_certificate \(certificate);
                    ssl_certificate_key \(key);
                    location / { return 200 "connection=$connection protocol=$server_protocol\\n"; }
                }
            }
            """
        let configurationPath = directory.appendingPathComponent("nginx.conf").path
        try configuration.write(toFile: configurationPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-c", configurationPath, "-p", directory.path, "-e", "stderr"]
        try process.run()
        let nginx = LocalNginx(port: port, certificatePath: certificate, process: process, directory: directory)
        try nginx.waitUntilListening()
        return nginx
    }

    func stop() {
        // SIGKILL: a child of the test process may inherit a mask that blocks SIGTERM.
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
        try? FileManager.default.removeItem(at: self.directory)
    }

    private func waitUntilListening() throws {
        for _ in 0..<200 {
            if Self.canConnect(port: self.port) { return }
            guard self.process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.025)
        }
        self.stop()
        throw NginxError(message: "nginx did not start listening on port \(self.port)")
    }

    static func canConnect(port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port nothing listens on now: one the kernel picked for a listener that is closed at once.
    static func freePort() throws -> Int {
        let listener = try SilentListener()
        listener.stop()
        return listener.port
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw NginxError(message: "\(executable) failed") }
    }

    struct NginxError: Error {
        let message: String
    }
}
