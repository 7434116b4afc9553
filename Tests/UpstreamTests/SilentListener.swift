import Foundation

/// A loopback socket that listens and never accepts: the kernel completes each connection into its
/// backlog, takes the request's bytes, and nothing ever answers. Unlike a server that sleeps, it has
/// no connection objects for a test's end to race with.
struct SilentListener {
    let port: Int
    private let socket: Int32

    var baseURL: String { "http://127.0.0.1:\(self.port)" }

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && listen(socket, 1024) == 0
                    && getsockname(socket, pointer, &length) == 0
            }
        }
        guard listening else {
            close(socket)
            throw LocalNginx.NginxError(message: "could not listen on a loopback port")
        }
        self.socket = socket
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func stop() {
        close(self.socket)
    }
}
