import Shoal
import ShoalKernel
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A listener on an ephemeral port and the reactor side of one connection from a
/// plain client on a thread of its own, which runs `client` and then closes.
private func pingPong(
    _ reactor: Reactor, rounds: Int, _ client: @escaping @Sendable (TestClient) throws -> Void
) async throws -> ReactorStats {
    let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
    defer { listener.close() }
    let port = listener.localAddress.port
    let failure = Shared<String?>(nil)
    let thread = ThreadForTest {
        do {
            let peer = try TestClient(port: port)
            try client(peer)
            peer.finishWriting()
        } catch {
            failure.value = "\(error)"
        }
    }
    let connection = try await listener.accept()
    var buffer = IOBuffer(capacity: 64)
    // Warm up: the first exchange moves the reactor to collecting readiness with epoll.
    _ = try await connection.read(into: &buffer)
    try await connection.write(buffer)
    let before = reactor.stats
    for _ in 1..<rounds {
        buffer.count = 0
        if try await connection.read(into: &buffer) == 0 { break }
        try await connection.write(buffer)
    }
    let after = reactor.stats.since(before)
    buffer.count = 0
    while try await connection.read(into: &buffer) > 0 { buffer.count = 0 }
    thread.join()
    if let failure = failure.value { Issue.record("client: \(failure)") }
    return after
}

/// Runs `body` on the reactor side of a connection that has just echoed one byte (so the
/// reactor collects readiness with epoll), while the plain client stays connected for
/// `lingering` microseconds more.
private func afterOneEcho<T: Sendable>(
    _ reactor: Reactor, lingering: UInt32, _ body: () async throws -> T
) async throws -> T {
    let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
    defer { listener.close() }
    let port = listener.localAddress.port
    let peerThread = ThreadForTest {
        guard let peer = try? TestClient(port: port) else { return }
        try? peer.send([1])
        _ = try? peer.receive(count: 1)
        usleep(lingering)
    }
    let connection = try await listener.accept()
    var buffer = IOBuffer(capacity: 8)
    _ = try await connection.read(into: &buffer)
    try await connection.write(buffer)
    let result = try await body()
    peerThread.join()
    return result
}

@Suite("Sleeping in epoll_wait while sockets are busy and the ring has nothing in flight")
struct EpollSleepTests {
    @Test("a ping-pong costs one epoll_wait per round trip: no io_submit or io_getevents")
    func pingPongCosts() async throws {
        let rounds = 500
        let stats = try await runReactor { reactor in
            try await pingPong(reactor, rounds: rounds) { peer in
                for index in 0..<rounds {
                    try peer.send([UInt8(truncatingIfNeeded: index)])
                    guard try peer.receive(count: 1) == [UInt8(truncatingIfNeeded: index)] else {
                        throw ClientError(call: "echo", errno: EIO)
                    }
                }
            }
        }
        // Before this path: an io_submit (re-arm) and an io_getevents (sleep) per round trip.
        #expect(stats.ioSubmitCalls + stats.ioGeteventsCalls < rounds / 10, "\(stats)")
        #expect(stats.epollWaitCalls <= 2 * rounds, "\(stats)")
        #expect(stats.sleeps > rounds / 2, "\(stats)")
    }

    @Test("a closure from another thread wakes a reactor asleep in epoll_wait, with one eventfd write")
    func crossThreadWake() async throws {
        let outcome = try await runReactor { reactor -> (ReactorStats, Bool) in
            try await afterOneEcho(reactor, lingering: 50_000) {
                let before = reactor.stats
                // Nothing to run, no timer, no disk I/O: the reactor sleeps until the thread posts.
                let ran = await withUnsafeContinuation { (continuation: UnsafeContinuation<Bool, Never>) in
                    startDetachedThread {
                        usleep(20_000)
                        _ = reactor.execute { continuation.resume(returning: true) }
                    }
                }
                return (reactor.stats.since(before), ran)
            }
        }
        #expect(outcome.1)
        #expect(outcome.0.eventfdWrites == 1, "\(outcome.0)")
        #expect(outcome.0.ioGeteventsCalls == 0, "slept in io_getevents: \(outcome.0)")
    }

    @Test("timers fire, and disk I/O completes, after the reactor slept in epoll_wait")
    func timersAndDiskAfterEpollSleep() async throws {
        let path = try scratchPath("epoll-sleep-disk")
        try writePatternFile(path, size: 1 << 16)
        defer { unlink(path) }
        let outcome = try await runReactor { reactor -> (Int, Int) in
            try await afterOneEcho(reactor, lingering: 100_000) {
                let before = reactor.stats
                // A sleep of a few milliseconds, then one under a millisecond.
                try await reactor.sleep(for: .milliseconds(3))
                try await reactor.sleep(for: .microseconds(300))
                let timers = reactor.stats.since(before).timersFired
                let file = try await File.open(FilePath(path), on: reactor)
                let bytes = try await file.read(at: 0, count: 1 << 16)
                try await file.close()
                return (timers, bytes.count)
            }
        }
        #expect(outcome.0 == 2)
        #expect(outcome.1 == 1 << 16)
    }
}
