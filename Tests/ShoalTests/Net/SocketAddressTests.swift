import Shoal
import Testing

@Suite("SocketAddress: parsing and printing")
struct SocketAddressTests {
    @Test(
        "IPv4 and IPv6 with ports parse and print back",
        arguments: [
            "127.0.0.1:7000", "0.0.0.0:0", "[::1]:80", "[::]:65535", "[fe80::1%1]:22",
        ])
    func roundTrip(text: String) throws {
        let address = try SocketAddress(text)
        #expect(address.description == text)
        #expect(try SocketAddress(address.description) == address)
    }

    @Test(
        "bad text is refused with a reason that quotes it",
        arguments: [
            ("localhost", "no port"), ("127.0.0.1", "no port"), ("127.0.0.1:70000", "out of range"),
            ("127.0.0.1:http", "not a number"), ("::1:80", "needs brackets"), ("[::1:80", "closing"),
            ("example.com:80", "resolve"), (":80", "no host"), ("[::1]", "no port"), ("1.2.3.4:-1", "not a number"),
        ])
    func refused(text: String, reason: String) {
        do {
            _ = try SocketAddress(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
            #expect("\(error)".contains(text))
        }
    }

    @Test("host and port: numeric hosts, bracketed or not; ports checked")
    func hostAndPort() throws {
        #expect(try SocketAddress(host: "[::1]", port: 9).description == "[::1]:9")
        #expect(try SocketAddress(host: "10.1.2.3", port: 0) == SocketAddress(.ipv4(10, 1, 2, 3), port: 0))
        #expect(throws: ReactorError.self) { try SocketAddress(host: "10.1.2.3", port: 65_536) }
        #expect(throws: ReactorError.self) { try SocketAddress(host: "not an address", port: 1) }
    }

    @Test("names resolve off the reactor thread; bad names say why")
    func resolve() async throws {
        let found = try await runReactor { reactor in try await SocketAddress.resolve("localhost", port: 80, on: reactor) }
        #expect(found.contains(SocketAddress.loopback(port: 80)))
        await #expect(throws: ReactorError.self) {
            _ = try await runReactor { reactor in try await SocketAddress.resolve("no-such-host.invalid", port: 80, on: reactor) }
        }
    }
}
