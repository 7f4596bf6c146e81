import Shoal

/// An actor whose executor is a reactor (its serial face).
actor PinnedCounter {
    let reactor: Reactor
    private(set) var count = 0

    init(reactor: Reactor) { self.reactor = reactor }

    nonisolated var unownedExecutor: UnownedSerialExecutor { reactor.unownedSerialExecutor }

    /// Increments, sleeps on the reactor, and reports whether it ran on the reactor thread
    /// before and after the sleep.
    func incrementAndSleep() async throws -> (before: Bool, after: Bool) {
        count += 1
        let before = reactor.isOnReactorThread
        try await reactor.sleep(for: .milliseconds(1))
        return (before, reactor.isOnReactorThread)
    }

    /// Awaits `rounds` continuations, each resumed by a reactor closure.
    func awaitResumes(_ rounds: Int) async -> Bool {
        for _ in 0..<rounds {
            await withUnsafeContinuation { continuation in reactor.execute { continuation.resume() } }
        }
        return reactor.isOnReactorThread
    }
}

/// A plain `nonisolated async` function: with the reactor as task executor preference,
/// it runs on the reactor thread.
func nonisolatedProbe(_ reactor: Reactor) async -> Bool {
    await Task.yield()
    return reactor.isOnReactorThread
}
