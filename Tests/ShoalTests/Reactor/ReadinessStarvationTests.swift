import Shoal
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs 200 ping-pong round trips between a plain client thread and the reactor while
/// `disturb` keeps the reactor from sleeping until the client is done (or 20 s pass).
/// Returns whether the client finished while the disturbance was still going.
private func pingPongFinishes(
    _ disturb: @escaping @Sendable (Reactor, _ stop: Shared<Bool>) -> Void
) async throws -> Bool {
    try await runReactor { reactor -> Bool in
        let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
        defer { listener.close() }
        let port = listener.localAddress.port
        let stop = Shared(false)
        let finished = Shared(false)
        let client = ThreadForTest {
            guard let peer = try? TestClient(port: port, receiveTimeout: 30) else { return }
            try? peer.send([0])
            _ = try? peer.receive(count: 1)
            usleep(20_000)  // the disturbance is running now
            var rounds = 0
            for index in 1...200 {
                guard (try? peer.send([UInt8(index)])) != nil, (try? peer.receive(count: 1)) == [UInt8(index)] else { break }
                rounds += 1
            }
            finished.value = rounds == 200 && !stop.value
            stop.value = true
            peer.finishWriting()
            _ = try? peer.receiveAll()
        }
        let connection = try await listener.accept()
        var buffer = IOBuffer(capacity: 64)
        _ = try await connection.read(into: &buffer)
        try await connection.write(buffer)
        disturb(reactor, stop)
        while true {
            buffer.count = 0
            if try await connection.read(into: &buffer) == 0 { break }
            try await connection.write(buffer)
        }
        connection.close()
        client.join()
        return finished.value
    }
}

/// Monotonic nanoseconds, the reactor's clock.
private func now() -> UInt64 { Reactor.Instant.now.nanoseconds }

@Suite("Busy sockets are served while a timer fires every tick")
struct ReadinessStarvationTests {
    @Test("a closure rescheduling itself with schedule(after: .zero) does not keep socket readiness out")
    func zeroDelayTimers() async throws {
        let finished = try await pingPongFinishes { reactor, stop in
            let end = now() + 20_000_000_000
            @Sendable func step() {
                if stop.value || now() >= end {
                    stop.value = true
                    return
                }
                reactor.schedule(after: .zero) { step() }
            }
            step()
        }
        #expect(finished)
    }
}
