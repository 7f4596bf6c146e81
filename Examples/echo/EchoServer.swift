import ExampleSupport
import Shoal

/// The echo service: a listener, one task per connection, and a graceful stop on
/// SIGINT or SIGTERM.
struct EchoServer: Sendable {
    let maxConnections: Int
    let gracePeriod: Duration
    let bufferSize: Int
    let idleTimeout: Duration?

    /// Listens on `address` and serves until a signal; returns after the graceful stop.
    func run(on address: SocketAddress, reactor: Reactor) async throws {
        let bufferSize = self.bufferSize
        try await ServerLaunch.serveUntilSignal(
            "shoal-echo", on: address, options: TCPOptions(timeouts: TCPTimeouts(idle: idleTimeout)), reactor: reactor,
            maxConnections: maxConnections, gracePeriod: gracePeriod,
            announce: { printNow("shoal-echo listening on \($0.localAddress)\n") },
            handler: { connection in try await Self.echo(connection, bufferSize: bufferSize) }
        )
    }

    /// Sends back everything the client sends, until it finishes writing.
    private static func echo(_ connection: consuming TCPConnection, bufferSize: Int) async throws {
        var buffer = IOBuffer(capacity: bufferSize, alignment: 64)
        while true {
            buffer.count = 0
            if try await connection.read(into: &buffer) == 0 { return }
            try await connection.write(buffer)
        }
    }
}
