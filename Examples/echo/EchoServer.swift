import Shoal
#if canImport(Glibc)
import Glibc
#endif

/// The echo service: a listener, one task per connection, and a graceful stop on
/// SIGINT or SIGTERM.
struct EchoServer: Sendable {
    let maxConnections: Int
    let gracePeriod: Duration
    let bufferSize: Int
    let idleTimeout: Duration?

    /// Listens on `address` and serves until a signal; returns after the graceful stop.
    func run(on address: SocketAddress, reactor: Reactor) async throws {
        // Watch first: a signal is counted from now, and the descriptor it needs is
        // taken before connections can use them all up.
        let signals = try reactor.watchSignals([SIGINT, SIGTERM])
        defer { signals.close() }
        let options = TCPOptions(timeouts: TCPTimeouts(idle: idleTimeout))
        let listener = try await TCPListener.bind(address, options: options, on: reactor)
        write("shoal-echo listening on \(listener.localAddress)\n", to: .standardOutput)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask(executorPreference: reactor) {
                try await listener.serve(maxConnections: maxConnections, gracePeriod: gracePeriod) { connection in
                    try await echo(connection)
                }
            }
            group.addTask(executorPreference: reactor) {
                let signal = try await signals.next()
                // The previous actions come back: a second signal ends the process at once.
                signals.close()
                printError("shoal-echo: \(signal == SIGINT ? "SIGINT" : "SIGTERM"): stopping\n")
                listener.close()
            }
            // serve returns after the listener closed (a signal) or on a fatal error:
            // either way the signal wait is no longer needed.
            try await group.next()
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    /// Sends back everything the client sends, until it finishes writing.
    private func echo(_ connection: consuming TCPConnection) async throws {
        var buffer = IOBuffer(capacity: bufferSize, alignment: 64)
        while true {
            buffer.count = 0
            if try await connection.read(into: &buffer) == 0 { return }
            try await connection.write(buffer)
        }
    }
}
