import ArgumentParser
public import Shoal

/// What the example servers share: start a reactor, find the address, serve, and turn
/// failures into one line and an exit code.
public enum ServerLaunch {
    /// Runs `serve` on a new reactor (`configuration`) with the address of `host` (numeric, or a name
    /// looked up off the reactor thread) and `port`. A `SystemCallError` (the port is
    /// in use, the address is not local) prints `NAME: error` and exits 1; a host that
    /// does not resolve prints `NAME: --host: ...` and exits 64.
    public static func run(
        _ name: String, host: String, port: Int, configuration: Reactor.Configuration = Reactor.Configuration(),
        _ serve: @escaping @Sendable (SocketAddress, Reactor) async throws -> Void
    ) async throws {
        do {
            try await Reactor.run(configuration: configuration) { reactor in
                let address = try await SocketAddress.resolve(host, port: port, on: reactor)[0]
                try await serve(address, reactor)
            }
        } catch let error as SystemCallError {
            printError("\(name): \(error)\n")
            throw ExitCode(1)
        } catch let error as ReactorError {
            // The one ReactorError before serving: a host that is neither an address nor a name.
            printError("\(name): --host: \(error)\n")
            throw ExitCode(64)
        }
    }

    /// `seconds` as a duration; beyond what a duration holds (about 292 years) is "never".
    public static func duration(seconds: Double) -> Duration {
        seconds >= 9e9 ? .seconds(Int64.max) : .nanoseconds(Int64(seconds * 1e9))
    }
}

/// Writes `text` to standard error at once.
public func printError(_ text: String) {
    write(text, to: .standardError)
}

/// Writes `text` to standard output at once (a reader on a pipe sees it now).
public func printNow(_ text: String) {
    write(text, to: .standardOutput)
}

/// Writes `text` to `descriptor` at once (no stdio buffering).
public func write(_ text: String, to descriptor: FileDescriptor) {
    var text = text
    text.withUTF8 { bytes in _ = try? descriptor.writeAll(bytes) }
}
