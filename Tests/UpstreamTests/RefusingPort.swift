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
        (self.socket, self.port) = try SilentListener.bindLoopback(listening: false)
    }

    func stop() {
        close(self.socket)
    }
}
