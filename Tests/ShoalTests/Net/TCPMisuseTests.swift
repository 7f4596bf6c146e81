import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@Suite("TCP misuse: a clear error, and nothing else breaks")
struct TCPMisuseTests {
    @Test("a second serve, or accept while serving, is refused; the first serve goes on serving")
    func secondServeAndAcceptWhileServing() async throws {
        let outcome = try await runReactor { reactor -> (String, String, [UInt8]) in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            let first = Task(executorPreference: reactor) {
                try await listener.serve { connection in try await connection.write([9]) }
            }
            try await reactor.sleep(for: .milliseconds(5))
            var second = ""
            do { try await listener.serve { _ in } } catch let error as ReactorError { second = "\(error)" }
            var accepting = ""
            do { _ = try await listener.accept() } catch let error as ReactorError { accepting = "\(error)" }
            let client = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            var buffer = IOBuffer(capacity: 4)
            while try await client.read(into: &buffer) > 0 {}
            listener.close()
            try await first.value
            return (second, accepting, buffer.bytes)
        }
        #expect(outcome.0.contains("already serving"), "\(outcome.0)")
        #expect(outcome.1.contains("while serve runs"), "\(outcome.1)")
        #expect(outcome.2 == [9])
    }

    @Test("serve while a task waits in accept() is refused and leaves the listener open")
    func serveWhileAccepting() async throws {
        let outcome = try await runReactor { reactor -> (String, Bool) in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            defer { listener.close() }
            let accepting = Task(executorPreference: reactor) { () -> Bool in
                let connection = try await listener.accept()
                return connection.remoteAddress.port != 0
            }
            try await reactor.sleep(for: .milliseconds(5))
            var refused = ""
            do { try await listener.serve { _ in } } catch let error as ReactorError { refused = "\(error)" }
            _ = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            return (refused, try await accepting.value)
        }
        #expect(outcome.0.contains("waits in accept()"), "\(outcome.0)")
        #expect(outcome.1, "the waiting accept() did not get the connection")
    }

    @Test("a connection used from another thread after the reactor stopped throws stopped, naming the peer")
    func connectionAfterStop() async throws {
        final class Keeper: @unchecked Sendable {
            var connection: TCPConnection?
            var peer: TCPConnection?
        }
        let keeper = Keeper()
        try await runReactor { reactor in
            let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            defer { listener.close() }
            keeper.connection = try await TCPConnection.connect(to: listener.localAddress, on: reactor)
            keeper.peer = try await listener.accept()
        }
        var messages: [String] = []
        var buffer = IOBuffer(capacity: 8)
        do { _ = try await keeper.connection!.read(into: &buffer) } catch let error as ReactorError { messages.append("\(error)") }
        do { try await keeper.connection!.write([1]) } catch let error as ReactorError { messages.append("\(error)") }
        do { try await keeper.connection!.finishWriting() } catch let error as ReactorError { messages.append("\(error)") }
        #expect(messages.count == 3, "\(messages)")
        #expect(messages.allSatisfy { $0.contains("has stopped") && $0.contains("127.0.0.1:") }, "\(messages)")
    }

    @Test("a listener dropped without close() gives back its readiness registration")
    func droppedListener() async throws {
        let counts = try await runReactor { reactor -> (Int, Int) in
            let before = reactor.readiness.count
            for _ in 0..<50 {
                _ = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
            }
            return (before, reactor.readiness.count)
        }
        #expect(counts.1 == counts.0)
    }
}
