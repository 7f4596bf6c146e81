import Shoal
import ShoalKernel
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("TCP mechanics: cancellation, back-pressure, resets, IPv6, options")
struct TCPMechanicsTests {
    @Test("cancelling tasks blocked in accept, read and write resumes each with CancellationError; the reactor goes on")
    func cancellation() async throws {
        let outcome = try await runReactor { reactor -> [String] in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            defer { listener.close() }
            let client = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            let server = try await listener.accept()
            let reading = Task(executorPreference: reactor) { () -> String in
                var buffer = IOBuffer(capacity: 16)
                do { _ = try await server.read(into: &buffer) } catch is CancellationError { return "read" } catch { return "\(error)" }
                return "read data"
            }
            // A second pair whose peer never reads: 64 MiB cannot fit in the socket buffers.
            let writer = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            let silent = try await listener.accept()
            let accepting = Task(executorPreference: reactor) { () -> String in
                do { _ = try await listener.accept() } catch is CancellationError { return "accept" } catch { return "\(error)" }
                return "accepted"
            }
            let writing = Task(executorPreference: reactor) { () -> String in
                do { try await writer.write([UInt8](repeating: 1, count: 64 << 20)) } catch is CancellationError { return "write" } catch {
                    return "\(error)"
                }
                return "wrote"
            }
            try await reactor.sleep(for: .milliseconds(20))
            accepting.cancel()
            reading.cancel()
            writing.cancel()
            var results = [await accepting.value, await reading.value, await writing.value]
            // Both ends still work after the cancelled waits.
            try await server.write([5])
            var buffer = IOBuffer(capacity: 16)
            while !buffer.bytes.contains(5) {
                if try await client.read(into: &buffer) == 0 { break }
            }
            results.append(buffer.bytes.contains(5) ? "usable" : "broken")
            _ = silent
            return results
        }
        #expect(outcome == ["accept", "read", "write", "usable"])
    }

    @Test("a peer that never reads makes the writer wait, with bounded buffering; other connections are unaffected")
    func backPressure() async throws {
        let outcome = try await runReactor { reactor -> (Bool, [UInt8]) in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            defer { listener.close() }
            let stuck = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            let stuckServer = try await listener.accept()
            let progress = Shared(0)
            let writer = Task(executorPreference: reactor) {
                let chunk = [UInt8](repeating: 7, count: 1 << 20)
                for _ in 0..<256 {
                    try await stuckServer.write(chunk)
                    progress.update { $0 += 1 }
                }
            }
            try await reactor.sleep(for: .milliseconds(50))
            let other = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            let otherServer = try await listener.accept()
            try await otherServer.write([1, 2, 3])
            var buffer = IOBuffer(capacity: 8)
            while buffer.count < 3 { if try await other.read(into: &buffer) == 0 { break } }
            let blocked = progress.value < 256
            writer.cancel()
            _ = try? await writer.value
            _ = stuck
            return (blocked, buffer.bytes)
        }
        #expect(outcome.0, "the writer wrote 256 MiB to a peer that never read")
        #expect(outcome.1 == [1, 2, 3])
    }

    @Test("abort resets: the peer's read throws ECONNRESET naming the address; a write after it throws EPIPE, not SIGPIPE")
    func abortResets() async throws {
        let outcome = try await runReactor { reactor -> (Errno?, String, Errno?) in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            defer { listener.close() }
            let client = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            let server = try await listener.accept()
            try await client.write([1])
            client.abort()
            var buffer = IOBuffer(capacity: 16)
            var readError: SystemCallError?
            do {
                while try await server.read(into: &buffer) > 0 { buffer.count = 0 }
            } catch let error as SystemCallError {
                readError = error
            }
            var writeError: SystemCallError?
            do {
                for _ in 0..<100 { try await server.write([UInt8](repeating: 0, count: 65_536)) }
            } catch let error as SystemCallError {
                writeError = error
            }
            return (readError?.errno, readError.map { "\($0)" } ?? "", writeError?.errno)
        }
        #expect(outcome.0 == .connectionReset)
        #expect(outcome.1.contains("127.0.0.1:"))
        #expect(outcome.2 == .brokenPipe || outcome.2 == .connectionReset)
    }

    @Test("IPv6 loopback: bind to [::1]:0, connect, addresses on both ends, TCP_NODELAY on by default")
    func ipv6AndOptions() async throws {
        let outcome = try await runReactor { reactor -> (String, String, String, Int32) in
            let listener = try await TCPListener.bind(try SocketAddress("[::1]:0"), on: reactor)
            defer { listener.close() }
            let client = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            let server = try await listener.accept()
            var noDelay: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(client.descriptor.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, &length)
            return (
                "\(listener.localAddress)", "\(try client.localAddress())", "\(server.remoteAddress)", noDelay
            )
        }
        #expect(outcome.0.hasPrefix("[::1]:"))
        #expect(outcome.1 == outcome.2)
        #expect(outcome.3 == 1)
    }

    @Test("an idle limit closes a silent connection's wait with TimeoutError; finishWriting twice is harmless; a write after it is refused")
    func idleAndHalfClose() async throws {
        let outcome = try await runReactor { reactor -> (Bool, String, Int) in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            defer { listener.close() }
            let client = try await TCPConnection.connect(
                to: listener.localAddress, options: TCPOptions(timeouts: TCPTimeouts(idle: .milliseconds(30))), on: reactor)
            let server = try await listener.accept()
            var buffer = IOBuffer(capacity: 16)
            var timedOut = false
            do { _ = try await client.read(into: &buffer) } catch is TimeoutError { timedOut = true }
            try await client.finishWriting()
            try await client.finishWriting()
            var refused = ""
            do { try await client.write([1]) } catch let error as ReactorError { refused = "\(error)" }
            let end = try await server.read(into: &buffer)
            return (timedOut, refused, end)
        }
        #expect(outcome.0)
        #expect(outcome.1.contains("after finishWriting()"))
        #expect(outcome.2 == 0)
    }
}

@Suite("TCP full duplex: one task reads while another writes")
struct TCPFullDuplexTests {
    @Test("16 MiB written by one task while another reads the echo: no deadlock, every byte back")
    func readWhileWriting() async throws {
        let payload = (0..<(16 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ ($0 >> 12)) }
        let echoed = try await runReactor { reactor -> [UInt8] in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            defer { listener.close() }
            let server = Task(executorPreference: reactor) {
                let connection = try await listener.accept()
                var buffer = IOBuffer(capacity: 65_536)
                while try await connection.read(into: &buffer) > 0 {
                    try await connection.write(buffer)
                    buffer.count = 0
                }
            }
            let client = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            // The whole payload at once: far more than the socket buffers hold, so the
            // write can only finish while the echo is being read.
            let writer = Task(executorPreference: reactor) {
                try await client.write(payload)
                try await client.finishWriting()
            }
            var received: [UInt8] = []
            received.reserveCapacity(payload.count)
            var buffer = IOBuffer(capacity: 65_536)
            while try await client.read(into: &buffer) > 0 {
                received += buffer.bytes
                buffer.count = 0
            }
            try await writer.value
            try await server.value
            return received
        }
        #expect(echoed.count == payload.count)
        #expect(echoed == payload)
    }
}
