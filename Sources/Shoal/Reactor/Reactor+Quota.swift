extension Reactor {
    /// Whether the current tick's task quota is spent, so a long computation should
    /// yield. `false` off the reactor thread. Costs one vDSO clock read.
    public var shouldYield: Bool {
        isOnReactorThread && Self.now() >= taskDeadline
    }

    /// Yields to the reactor if the task quota is spent: the calling task goes to the
    /// back of the run queue, and the reactor submits and reaps I/O and fires timers
    /// before it runs again. Otherwise returns at once. Call it often in long loops.
    public nonisolated(nonsending) func yieldIfNeeded() async {
        guard shouldYield else { return }
        counters.quotaYields &+= 1
        await Task.yield()
    }
}
