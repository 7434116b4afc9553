import Foundation

/// A loopback socket that listens and never accepts: the kernel completes each connection into its
/// backlog, takes the request's bytes, and nothing ever answers. Unlike a server that sleeps, it has
/// no connection objects for a test's end to race with.
struct SilentListener {
    let port: Int
    private let socket: Int32

    var baseURL: String { "http://127.0.0.1:\(self.port)" }

    init() throws {
        (self.socket, self.port) = try Self.bindLoopback(listening: true)
    }

    /// A socket bound to a port of 127.0.0.1 the kernel picks, listening (backlog 1024) or not.
    static func bindLoopback(listening: Bool) throws -> (socket: Int32, port: Int) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && (!listening || listen(socket, 1024) == 0)
                    && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else {
            close(socket)
            throw LocalNginx.NginxError(message: "could not bind a loopback port")
        }
        return (socket, Int(UInt16(bigEndian: address.sin_port)))
    }

    func stop() {
        close(self.socket)
    }
}
