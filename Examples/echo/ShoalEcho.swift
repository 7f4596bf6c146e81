import ArgumentParser
import ExampleSupport
import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// `shoal-echo`: a TCP echo server on one reactor thread.
@main
struct ShoalEcho: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal-echo",
        abstract: "A TCP echo server on one reactor thread: every byte a client sends comes back.",
        discussion: """
            Prints "shoal-echo listening on HOST:PORT" when ready. One task per connection; \
            a connection ends when its client finishes writing (after the echo of all it \
            sent) or goes away. On SIGINT or SIGTERM it stops accepting, gives open \
            connections --grace-period seconds to finish, closes the rest and exits 0; a \
            second signal ends it at once. Exits 1 when it cannot listen (the port is in \
            use, the address is not local), 64 on bad arguments (a host that does not resolve).
            """)

    @Option(help: "The address to listen on: an IPv4 or IPv6 address (0.0.0.0 or :: for all interfaces), or a name.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port, printed when ready).")
    var port = 7_000

    @Option(help: "Connections served at once; more wait in the kernel's backlog.")
    var maxConnections = 10_000

    @Option(help: "Seconds open connections get to finish after SIGINT or SIGTERM.")
    var gracePeriod: Double = 5

    @Option(help: "Bytes read at a time per connection.")
    var bufferSize = 64 * 1_024

    @Option(help: "Close a connection that moves no byte for this many seconds (default: never).")
    var idleTimeout: Double?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard gracePeriod >= 0, gracePeriod.isFinite else { throw ValidationError("--grace-period must be 0 or more seconds") }
        guard (1...(64 << 20)).contains(bufferSize) else { throw ValidationError("--buffer-size must be 1...64M bytes") }
        if let idleTimeout, !(idleTimeout > 0 && idleTimeout.isFinite) {
            throw ValidationError("--idle-timeout must be more than 0 seconds")
        }
        if host.isEmpty { throw ValidationError("--host must not be empty") }
    }

    func run() async throws {
        let server = EchoServer(
            maxConnections: maxConnections, gracePeriod: ServerLaunch.duration(seconds: gracePeriod),
            bufferSize: bufferSize, idleTimeout: idleTimeout.map(ServerLaunch.duration(seconds:)))
        try await ServerLaunch.run("shoal-echo", host: host, port: port) { address, reactor in
            try await server.run(on: address, reactor: reactor)
        }
    }
}
