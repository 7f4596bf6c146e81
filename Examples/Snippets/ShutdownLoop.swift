import Shoal

/// A periodic task that ends with the reactor's shutdown.
func shutdownLoopExample() async throws {
    try await Reactor.run { reactor in
        reactor.spawn {
            while !reactor.isShuttingDown {
                try? await reactor.sleep(for: .milliseconds(100))
                // periodic work
            }
        }
        try await reactor.sleep(for: .milliseconds(250))
    }
}
