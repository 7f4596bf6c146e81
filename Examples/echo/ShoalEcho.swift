import ArgumentParser
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
            maxConnections: maxConnections, gracePeriod: duration(seconds: gracePeriod),
            bufferSize: bufferSize, idleTimeout: idleTimeout.map(duration(seconds:)))
        let host = self.host, port = self.port
        do {
            try await Reactor.run { reactor in
                // A numeric address, else a name looked up off the reactor thread.
                let address = try await SocketAddress.resolve(host, port: port, on: reactor)[0]
                try await server.run(on: address, reactor: reactor)
            }
        } catch let error as SystemCallError {
            printError("shoal-echo: \(error)\n")
            throw ExitCode(1)
        } catch let error as ReactorError {
            // The one ReactorError before serving: a host that is neither an address nor a name.
            printError("shoal-echo: --host: \(error)\n")
            throw ExitCode(64)
        }
    }

    /// `seconds` as a duration; beyond what a duration holds (about 292 years) is "never".
    private func duration(seconds: Double) -> Duration {
        seconds >= 9e9 ? .seconds(Int64.max) : .nanoseconds(Int64(seconds * 1e9))
    }
}

/// Writes `text` to standard error, unbuffered.
func printError(_ text: String) {
    write(text, to: .standardError)
}

/// Writes `text` to `descriptor` at once (no stdio buffering: a reader on a pipe sees it now).
func write(_ text: String, to descriptor: FileDescriptor) {
    var text = text
    text.withUTF8 { bytes in _ = try? descriptor.writeAll(bytes) }
}
