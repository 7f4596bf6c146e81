import Foundation
import ShoalTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Bytes that differ at every offset, so a body from the wrong place or file shows.
private func patterned(_ count: Int, seed: UInt8) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) ^ seed }
}

@Suite("shoal-httpd under load: many clients at once, thousands of connections, clients that do not read")
struct HTTPLoadTests {
    @Test("32 clients asking for a file at once, none of them cached yet: every body is the whole file, with and without the block cache")
    func concurrentFirstRequests() throws {
        let root = try site("httpd-concurrent")
        defer { _ = try? run("rm", ["-rf", root]) }
        let bytes = patterned(2 << 20, seed: 0x5A)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/big.bin"))
        for arguments in [["--cache-size", "0"], []] {
            let server = try FileServer(root: root, arguments)
            let failures = Mutex<[String]>([])
            let port = server.port
            DispatchQueue.concurrentPerform(iterations: 32) { index in
                do {
                    let client = try TestClient(port: port)
                    for _ in 0..<3 {
                        let (head, body) = try fetch(client, "/big.bin")
                        if !head.hasPrefix("HTTP/1.1 200") || body != bytes {
                            failures.withLock {
                                $0.append("client \(index): \(head.prefix(20)), \(body.count) bytes, equal \(body == bytes)")
                            }
                            return
                        }
                    }
                } catch {
                    failures.withLock { $0.append("client \(index): \(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(arguments): \(failures.withLock { $0.prefix(5) })")
            #expect(try server.stop().status == 0)
        }
    }

    @Test("2,000 connections open at once each get their answer; with --max-connections 50, 200 clients are all served in turn")
    func thousandsOfConnections() throws {
        raiseDescriptorLimit()
        let root = try site("httpd-many")
        defer { _ = try? run("rm", ["-rf", root]) }
        let bytes = patterned(5_000, seed: 0x11)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/page.bin"))
        for (clients, arguments) in [(2_000, [String]()), (200, ["--max-connections", "50"])] {
            let server = try FileServer(root: root, arguments)
            var connections: [TestClient] = []
            for _ in 0..<clients { connections.append(try TestClient(port: server.port)) }
            let request = Array("GET /page.bin HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".utf8)
            for client in connections { try client.send(request) }
            // Read in order, closing each after its answer: with the cap, the later ones are
            // accepted as the earlier ones end.
            var served = 0
            for client in connections {
                let response = try client.receiveAll()
                client.close()
                if response.starts(with: Array("HTTP/1.1 200".utf8)) && response.suffix(bytes.count).elementsEqual(bytes) { served += 1 }
            }
            #expect(served == clients, "\(arguments)")
            let summary = try server.stop().error
            #expect(summary.contains("connections \(clients),"), "\(summary)")
        }
    }

    @Test(
        "20 clients that ask for 16 MiB and do not read: the server's memory stays bounded, others are served, and the slow ones get every byte when they read"
    )
    func clientsThatDoNotRead() throws {
        let root = try site("httpd-slow-readers")
        defer { _ = try? run("rm", ["-rf", root]) }
        let size = 16 << 20
        let bytes = patterned(size, seed: 0xC3)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/large.bin"))
        try Data("small".utf8).write(to: URL(fileURLWithPath: "\(root)/small.txt"))
        for arguments in [["--cache-size", "0"], ["--cache-size", "4M"]] {
            let server = try FileServer(root: root, arguments)
            #expect(try curl(["\(server.base)/small.txt"]).output == "small")
            let before = try #require(server.process.residentKiB)
            var slow: [TestClient] = []
            for _ in 0..<20 {
                let client = try TestClient(port: server.port)
                try client.send(Array("GET /large.bin HTTP/1.1\r\nHost: test\r\n\r\n".utf8))
                slow.append(client)
            }
            // Give the server time to fill every socket and stop for back-pressure.
            usleep(1_500_000)
            let during = try #require(server.process.residentKiB)
            // 20 x 16 MiB asked for; per connection the server holds its read-ahead (two
            // 64 KiB blocks), and the block cache its cap.
            #expect(during - before < 24 * 1024, "resident memory grew from \(before) KiB to \(during) KiB with \(arguments)")
            #expect(try curl(["\(server.base)/small.txt"]).output == "small")
            for client in slow {
                let head = try fetchHead(client)
                try #require(head.suffix(4).elementsEqual("\r\n\r\n".utf8))
                let body = try client.receive(count: size)
                #expect(body.count == size && body == bytes)
            }
            #expect(try server.stop().status == 0)
        }
    }
}
