import Foundation
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A running `shoal-echo` on an ephemeral port of 127.0.0.1.
private final class EchoServer {
    let process: RunningProcess
    let port: UInt16

    init(_ arguments: [String] = [], prefix: [String] = []) throws {
        process = try RunningProcess(built: "shoal-echo", ["--port", "0"] + arguments, prefix: prefix)
        try process.waitForOutput(containing: "\n")
        let line = process.output.split(separator: "\n")[0]
        guard line.hasPrefix("shoal-echo listening on 127.0.0.1:"), let port = UInt16(line.split(separator: ":").last ?? "") else {
            process.kill()
            throw ProcessFailure("unexpected first line: \(line)")
        }
        self.port = port
    }

    deinit { process.kill() }

    /// Connects until the server refuses (its listener closed), at most 5 s; whether it did.
    func waitUntilRefusing() throws -> Bool {
        for _ in 0..<1_000 {
            do {
                _ = try TestClient(port: port)
                usleep(5_000)
            } catch let error as ClientError where error.errno == ECONNREFUSED {
                return true
            }
        }
        return false
    }

    /// Stops it with `signal` and returns how it ended.
    func stop(_ signal: Int32 = SIGTERM) throws -> ProcessResult {
        process.signal(signal)
        return try process.wait()
    }
}

/// `count` bytes of a pattern that differs per `seed`.
private func pattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 131) &+ seed &* 7 &+ ($0 >> 11)) }
}

/// Runs `shell` with `sh -c`.
private func shell(_ command: String) throws -> ProcessResult {
    try run("sh", ["-c", command], timeout: .seconds(120))
}

@Suite("shoal-echo: the built server, with real clients")
struct EchoToolTests {
    @Test("one byte through nc and socat, each with a half-close, comes back; so does 16 MiB through socat")
    func smallAndLargeThroughRealClients() throws {
        let server = try EchoServer()
        let nc = try shell("printf x | nc -N 127.0.0.1 \(server.port)")
        #expect(nc.status == 0, "\(nc.error)")
        #expect(nc.output == "x")
        let socat = try shell("printf y | socat -t 30 - TCP:127.0.0.1:\(server.port)")
        #expect(socat.status == 0, "\(socat.error)")
        #expect(socat.output == "y")

        let folder = try scratchPath("echo-16m")
        #expect(mkdir(folder, 0o755) == 0)
        defer { _ = try? run("rm", ["-rf", folder]) }
        try Data(pattern(16 << 20)).write(to: URL(fileURLWithPath: folder + "/in"))
        let big = try shell("socat -t 30 -b 65536 - TCP:127.0.0.1:\(server.port) < \(folder)/in > \(folder)/out")
        #expect(big.status == 0, "\(big.error)")
        let compare = try run("cmp", [folder + "/in", folder + "/out"])
        #expect(compare.status == 0, "\(compare.output)")
        let stopped = try server.stop()
        #expect(stopped.status == 0, "\(stopped.error)")
    }

    @Test("16 MiB from a plain socket, written while another thread reads the echo, then a half-close")
    func largeFromPlainSocket() throws {
        let server = try EchoServer()
        let client = try TestClient(port: server.port)
        let payload = pattern(16 << 20, seed: 3)
        let writer = ThreadForTest {
            try? client.send(payload)
            client.finishWriting()
        }
        let echoed = try client.receiveAll()
        writer.join()
        #expect(echoed.count == payload.count)
        #expect(echoed == payload)
    }

    @Test("1,000 connections at once each get their own bytes back")
    func thousandConnections() throws {
        raiseDescriptorLimit()
        let server = try EchoServer()
        var clients: [TestClient] = []
        for _ in 0..<1_000 { clients.append(try TestClient(port: server.port)) }
        for (index, client) in clients.enumerated() { try client.send(pattern(100, seed: index)) }
        var wrong = 0
        for (index, client) in clients.enumerated() where try client.receive(count: 100) != pattern(100, seed: index) {
            wrong += 1
        }
        #expect(wrong == 0)
        for client in clients { client.finishWriting() }
        var ended = 0
        for client in clients where try client.receive(count: 1).isEmpty { ended += 1 }
        #expect(ended == 1_000)
        let stopped = try server.stop()
        #expect(stopped.status == 0, "\(stopped.error)")
    }

    @Test("a client that sends one byte at a time gets every byte back, in order")
    func byteAtATime() throws {
        let server = try EchoServer()
        let client = try TestClient(port: server.port)
        var one: Int32 = 1
        setsockopt(client.descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let payload = pattern(2_000, seed: 9)
        for (index, byte) in payload.enumerated() {
            try client.send([byte])
            // Every tenth byte waits for its echo: the server sees single-byte reads.
            if index % 10 == 9 {
                #expect(try client.receive(count: 10) == Array(payload[(index - 9)...index]))
            }
        }
        client.finishWriting()
        #expect(try client.receiveAll().isEmpty)
    }

    @Test("clients that reset mid-stream end only their own connection; the others keep being served")
    func resetsMidStream() throws {
        let server = try EchoServer()
        let steady = try TestClient(port: server.port)
        for round in 0..<20 {
            let doomed = try (0..<10).map { _ in try TestClient(port: server.port) }
            for client in doomed { try client.send(pattern(200_000, seed: round)) }
            for client in doomed { client.reset() }
            let bytes = pattern(50_000, seed: round)
            try steady.send(bytes)
            #expect(try steady.receive(count: bytes.count) == bytes)
        }
        let fresh = try TestClient(port: server.port)
        try fresh.send([7, 8, 9])
        fresh.finishWriting()
        #expect(try fresh.receiveAll() == [7, 8, 9])
        let stopped = try server.stop()
        #expect(stopped.status == 0, "\(stopped.error)")
    }

    @Test("a client that sends and never reads stalls only itself; the server's memory stays bounded")
    func slowReader() throws {
        let server = try EchoServer()
        let baseline = try #require(server.process.residentKiB)
        let hog = try TestClient(port: server.port)
        let flags = fcntl(hog.descriptor, F_GETFL)
        _ = fcntl(hog.descriptor, F_SETFL, flags | O_NONBLOCK)
        let chunk = pattern(65_536)
        var sent = 0
        var stalls = 0
        // Send until the kernel's buffers on both sides are full and stay full.
        while stalls < 20 && sent < 1 << 30 {
            let result = chunk.withUnsafeBytes { send(hog.descriptor, $0.baseAddress!, chunk.count, Int32(MSG_NOSIGNAL)) }
            if result > 0 {
                sent += result
                stalls = 0
            } else {
                stalls += 1
                var ready = pollfd(fd: hog.descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&ready, 1, 50)
            }
        }
        #expect(sent < 256 << 20, "the server kept reading from a client that does not read: \(sent) bytes")
        let other = try TestClient(port: server.port)
        try other.send([1, 2, 3])
        #expect(try other.receive(count: 3) == [1, 2, 3])
        let resident = try #require(server.process.residentKiB)
        #expect(resident - baseline < 32 * 1_024, "resident grew from \(baseline) KiB to \(resident) KiB")
        hog.reset()
        let stopped = try server.stop()
        #expect(stopped.status == 0, "\(stopped.error)")
    }

    @Test("nc to a port nothing listens on fails; shoal-echo on a port in use exits 1 naming the address")
    func closedPortAndPortInUse() throws {
        let server = try EchoServer()
        let port = server.port
        let busy = try runBuilt("shoal-echo", ["--port", "\(port)"])
        #expect(busy.status == 1)
        #expect(busy.error.contains("127.0.0.1:\(port)"), "\(busy.error)")
        #expect(busy.error.contains("in use"), "\(busy.error)")
        _ = try server.stop()
        #expect(throws: ClientError.self) { _ = try TestClient(port: port) }
        let nc = try shell("printf x | nc -N 127.0.0.1 \(port)")
        #expect(nc.status != 0)
    }

    @Test("SIGTERM with clients connected: no new connections, open ones are served through the grace period, then closed; exit 0")
    func sigtermWithClients() throws {
        let server = try EchoServer(["--grace-period", "3"])
        let clients = try (0..<5).map { _ in try TestClient(port: server.port) }
        for client in clients {
            try client.send([1])
            #expect(try client.receive(count: 1) == [1])
        }
        server.process.signal(SIGTERM)
        // Wait for the listener to close: then new connections are refused.
        #expect(try server.waitUntilRefusing())
        // The open connections still echo during the grace period.
        try clients[0].send([2, 3])
        #expect(try clients[0].receive(count: 2) == [2, 3])
        // A client that finishes ends normally; the others are closed after the grace period.
        clients[1].finishWriting()
        #expect(try clients[1].receiveAll().isEmpty)
        for client in clients[2...] { #expect(try client.receiveAll().isEmpty) }
        let result = try server.process.wait()
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("SIGTERM"))
    }

    @Test("out of descriptors (a low ulimit -n): accept backs off, open connections are served, waiting ones later")
    func outOfDescriptors() throws {
        let server = try EchoServer(prefix: ["prlimit", "--nofile=32:32", "--"])
        // More clients than the server has descriptors for: some wait in the backlog.
        let clients = try (0..<60).map { _ in try TestClient(port: server.port) }
        for (index, client) in clients.enumerated() { try client.send([UInt8(index)]) }
        var served: [Int] = []
        var waiting: [Int] = []
        for (index, client) in clients.enumerated() {
            var ready = pollfd(fd: client.descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, 200) == 1 {
                #expect(try client.receive(count: 1) == [UInt8(index)])
                served.append(index)
            } else {
                waiting.append(index)
            }
        }
        #expect(!served.isEmpty)
        #expect(!waiting.isEmpty, "all 60 were served with 32 descriptors")
        // Ending connections frees descriptors: the waiting clients get their turn, in
        // the backlog's order, each as soon as one ends.
        for index in served { clients[index].close() }
        for index in waiting {
            #expect(try clients[index].receive(count: 1) == [UInt8(index)], "client \(index)")
            clients[index].close()
        }
        let result = try server.stop()
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("backing off") || result.error.contains("backing off"), "\(result.error)")
    }

    @Test("a second SIGTERM during the grace period ends shoal-echo at once, by the signal")
    func secondSignal() throws {
        let server = try EchoServer(["--grace-period", "600"])
        let client = try TestClient(port: server.port)
        try client.send([1])
        #expect(try client.receive(count: 1) == [1])
        server.process.signal(SIGTERM)
        // Once the listener is closed the first signal has been handled.
        #expect(try server.waitUntilRefusing())
        server.process.signal(SIGTERM)
        // Far less than the 600 s grace period: the default action ended it.
        let result = try server.process.wait(timeout: .seconds(30))
        #expect(result.status == SIGTERM, "status \(result.status): \(result.error)")
    }

    @Test("durations past what a Duration holds mean never: --grace-period 1e19 and --idle-timeout 1e300 run")
    func hugeDurations() throws {
        let server = try EchoServer(["--grace-period", "1e19", "--idle-timeout", "1e300"])
        let client = try TestClient(port: server.port)
        try client.send([5])
        #expect(try client.receive(count: 1) == [5])
        client.close()
        let result = try server.stop()
        #expect(result.status == 0, "\(result.error)")
    }

    @Test("a host name is looked up; one that does not resolve exits 64 with one line")
    func hostNames() throws {
        let server = try RunningProcess(built: "shoal-echo", ["--port", "0", "--host", "localhost"])
        try server.waitForOutput(containing: "listening on ")
        server.signal(SIGTERM)
        #expect(try server.wait().status == 0)
        let bad = try runBuilt("shoal-echo", ["--port", "0", "--host", "no-such-host.invalid"])
        #expect(bad.status == 64, "\(bad.status) \(bad.error)")
        #expect(bad.error.contains("does not resolve"), "\(bad.error)")
    }
}
