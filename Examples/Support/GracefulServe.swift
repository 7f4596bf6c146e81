public import Shoal

#if canImport(Glibc)
import Glibc
#endif

extension ServerLaunch {
    /// Listens on `address` and serves until SIGINT or SIGTERM (when `watchesSignals`)
    /// or until `stop` is requested, then stops gracefully.
    ///
    /// The signal watch comes first: a signal counts from then, and the descriptor it
    /// needs is taken before connections can use them all up. `announce` runs once the
    /// listener is bound (print the address there). On the first signal the watch
    /// closes (a second signal ends the process at once, the usual way), `NAME: SIGTERM:
    /// stopping` goes to standard error, and the listener closes: `serve` gives open
    /// connections `gracePeriod`, then cancels them. A `stop` request does the same,
    /// without the line. `onSignal` runs first, on the reactor thread (tell the handlers
    /// to wind down there).
    public static func serveUntilSignal(
        _ name: String, on address: SocketAddress, options: TCPOptions = TCPOptions(), reactor: Reactor,
        maxConnections: Int, gracePeriod: Duration, watchesSignals: Bool = true, stop: StopRequest? = nil,
        announce: (TCPListener) -> Void,
        onSignal: @escaping @Sendable () -> Void = {},
        handler: @escaping @Sendable (consuming TCPConnection) async throws -> Void
    ) async throws {
        let signals = watchesSignals ? try reactor.watchSignals([SIGINT, SIGTERM]) : nil
        defer { signals?.close() }
        let listener = try await TCPListener.bind(address, options: options, on: reactor)
        announce(listener)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask(executorPreference: reactor) {
                try await listener.serve(maxConnections: maxConnections, gracePeriod: gracePeriod, handler)
            }
            if let signals {
                group.addTask(executorPreference: reactor) {
                    let signal = try await signals.next()
                    signals.close()
                    printError("\(name): \(signal == SIGINT ? "SIGINT" : "SIGTERM"): stopping\n")
                    onSignal()
                    listener.close()
                }
            }
            if let stop {
                group.addTask(executorPreference: reactor) {
                    await stop.wait()
                    guard !Task.isCancelled else { return }
                    onSignal()
                    listener.close()
                }
            }
            // serve returns after the listener closed (a signal) or on a fatal error:
            // either way the waits for a stop are no longer needed.
            try await group.next()
            group.cancelAll()
            try await group.waitForAll()
        }
    }
}
