import Foundation

/// A loopback port that refuses every connection, held for the test's length: a socket bound to it
/// that never listens, so the kernel answers each connection attempt with a reset.
///
/// A port found free and closed at once (``LocalNginx/freePort()``) could be handed to another test
/// binding port 0 at the same moment; the connections meant to be refused would then sit on that
/// test's listener until an idle timeout. Holding the bind keeps the port this test's.
struct RefusingPort {
    let port: Int
    private let socket: Int32

    var baseURL: String { "http://127.0.0.1:\(self.port)" }

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else {
            close(socket)
            throw LocalNginx.NginxError(message: "could not bind a loopback port")
        }
        self.socket = socket
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func stop() {
        close(self.socket)
    }
}
