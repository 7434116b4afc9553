import Switchboard
import Testing

@Suite("Listening beyond loopback needs a master key, or an explicit allow")
struct ListenAddressPolicyTests {
    @Test("loopback addresses are this machine; every other address or name is exposed")
    func loopback() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]", "::ffff:127.0.0.1"] {
            #expect(ListenAddressPolicy.isLoopback(host), "\(host)")
        }
        for host in ["0.0.0.0", "::", "[::]", "192.168.1.10", "10.0.0.1", "128.0.0.1", "example.com", "::2", ""] {
            #expect(!ListenAddressPolicy.isLoopback(host), "\(host)")
        }
    }

    @Test("0.0.0.0 without a master key is refused, saying how to fix it; a key or the allow setting lets it start")
    func decision() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ListenAddressPolicy.check(host: "0.0.0.0", masterKey: nil, allowUnauthenticated: false)
        }
        let message = error?.message ?? ""
        for fix in ["general_settings.master_key", "LITELLM_MASTER_KEY", "--allow-unauthenticated",
                    "switchboard.allow_unauthenticated: true", "--host 127.0.0.1"] {
            #expect(message.contains(fix), "the message names \(fix)")
        }
        #expect(try ListenAddressPolicy.check(host: "0.0.0.0", masterKey: "sk-1", allowUnauthenticated: false) == nil)
        let allowed = try ListenAddressPolicy.check(host: "0.0.0.0", masterKey: nil, allowUnauthenticated: true)
        #expect(allowed?.contains("without a master key") == true, "serving open as allowed is warned about")
        #expect(try ListenAddressPolicy.check(host: "127.0.0.1", masterKey: nil, allowUnauthenticated: false) == nil)
    }
}
