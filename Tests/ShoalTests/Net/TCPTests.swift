import Shoal
import ShoalKernel
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("TCP: listener and connections on one reactor")
struct TCPTests {
    @Test("a 1 MiB echo, then a half-close: all comes back, then the end of the stream")
    func echoHalfClose() async throws {
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let echoed = try await runReactor { reactor -> [UInt8] in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            #expect(listener.localAddress.port != 0)
            let server = Task(executorPreference: reactor) {
                let connection = try await listener.accept()
                var buffer = IOBuffer(capacity: 8_192)
                while true {
                    buffer.count = 0
                    if try await connection.read(into: &buffer) == 0 { break }
                    try await connection.write(buffer)
                }
            }
            let client = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            // One task owns the connection: send a chunk, read its echo, and so on.
            var received: [UInt8] = []
            var buffer = IOBuffer(capacity: 65_536)
            for start in stride(from: 0, to: payload.count, by: 50_000) {
                try await client.write(payload[start..<min(start + 50_000, payload.count)])
                while received.count < min(start + 50_000, payload.count) {
                    buffer.count = 0
                    if try await client.read(into: &buffer) == 0 { break }
                    received += buffer.bytes
                }
            }
            try await client.finishWriting()
            buffer.count = 0
            #expect(try await client.read(into: &buffer) == 0)
            try await server.value
            listener.close()
            return received
        }
        #expect(echoed.count == payload.count)
        #expect(echoed == payload)
    }

    @Test("connecting to a closed port throws ECONNREFUSED naming the address")
    func refused() async throws {
        let port = try await runReactor { reactor -> UInt16 in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            let port = listener.localAddress.port
            listener.close()
            return port
        }
        let message = try await runReactor { reactor -> String in
            do {
                _ = try await TCPConnection.connect(to: .loopback(port: port), on: reactor)
                return "connected"
            } catch let error as SystemCallError {
                #expect(error.errno == .connectionRefused)
                return "\(error)"
            }
        }
        #expect(message.contains("127.0.0.1:\(port)"))
        #expect(message.contains("nothing listens"))
    }

    @Test("binding a port in use throws EADDRINUSE naming the address")
    func portInUse() async throws {
        let message = try await runReactor { reactor -> String in
            let first = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            defer { first.close() }
            do {
                _ = try await TCPListener.bind(first.localAddress, on: reactor)
                return "bound twice"
            } catch let error as SystemCallError {
                #expect(error.errno == .addressInUse)
                return "\(error)"
            }
        }
        #expect(message.contains("bind 127.0.0.1:"))
    }

    @Test("closing the listener ends a waiting accept with ReactorError.closed")
    func closeEndsAccept() async throws {
        let error = try await runReactor { reactor -> ReactorError? in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            reactor.schedule(after: .milliseconds(5)) { listener.close() }
            do {
                _ = try await listener.accept()
                return nil
            } catch let error as ReactorError {
                return error
            }
        }
        guard case .closed? = error else {
            Issue.record("expected .closed, got \(String(describing: error))")
            return
        }
    }

    @Test("a read with a limit times out naming the peer; the connection stays usable")
    func readTimeout() async throws {
        let outcome = try await runReactor { reactor -> (String, Int) in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            defer { listener.close() }
            let client = try await TCPConnection.connect(
                to: listener.localAddress, options: TCPOptions(timeouts: TCPTimeouts(read: .milliseconds(20))),
                on: reactor)
            let server = try await listener.accept()
            var buffer = IOBuffer(capacity: 16)
            var message = ""
            do {
                _ = try await client.read(into: &buffer)
            } catch let error as TimeoutError {
                message = "\(error)"
            }
            try await server.write([1, 2, 3])
            let read = try await client.read(into: &buffer)
            return (message, read)
        }
        #expect(outcome.0.contains("read from 127.0.0.1:"))
        #expect(outcome.1 == 3)
    }

    @Test("serve runs a task per connection and returns after close")
    func serveAndClose() async throws {
        let served = try await runReactor { reactor -> Int in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            let server = Task(executorPreference: reactor) {
                try await listener.serve(maxConnections: 4, gracePeriod: .seconds(1)) { connection in
                    try await connection.write([42])
                }
            }
            var got = 0
            for _ in 0..<10 {
                let client = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
                var buffer = IOBuffer(capacity: 4)
                while try await client.read(into: &buffer) > 0 {}
                if buffer.bytes == [42] { got += 1 }
            }
            listener.close()
            try await server.value
            return got
        }
        #expect(served == 10)
    }
}
