extension Reactor {
    /// Suspends the calling task for `duration` on the reactor's monotonic clock.
    ///
    /// Never returns early. Costs no system call of its own: the reactor's blocking
    /// step times out at the earliest timer. A negative duration is zero; one too long
    /// for the clock (`.seconds(Int64.max)`) sleeps until cancelled.
    ///
    /// - Throws: `CancellationError` promptly when the task is cancelled, or when the
    ///   root task returns while it sleeps (see ``runOnCurrentThread(configuration:_:)``);
    ///   ``ReactorError/stopped(_:)`` after the reactor stopped.
    public nonisolated(nonsending) func sleep(for duration: Duration) async throws {
        try await sleep(until: .now.advanced(by: duration))
    }

    /// Suspends the calling task until `deadline` on the reactor's monotonic clock.
    ///
    /// - Throws: `CancellationError` promptly when the task is cancelled, or when the
    ///   root task returns while it sleeps; ``ReactorError/stopped(_:)`` after the
    ///   reactor stopped.
    public nonisolated(nonsending) func sleep(until instant: Instant) async throws {
        if currentPhase == .stopped { throw ReactorError.stopped("no sleep") }
        guard isOnReactorThread else {
            return try await hop { try await $0.sleep(until: instant) }
        }
        let deadline = instant.nanoseconds
        try Task.checkCancellation()
        let handle = TimerHandle()
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                handle.id = timers.schedule(at: deadline, .resume(continuation))
            }
        } onCancel: {
            self.execute {
                if case .resume(let continuation)? = self.timers.cancel(handle.id) {
                    continuation.resume(throwing: CancellationError())
                }
            }
        }
    }

    /// Runs `body` on the reactor thread after `delay`, unless cancelled first.
    ///
    /// Call on the reactor thread. Timers fire in deadline order, ties in the order
    /// they were scheduled. Closures not fired when the root task returns are dropped;
    /// after the reactor stopped, `body` never runs.
    @discardableResult
    public func schedule(after delay: Duration, _ body: @escaping () -> Void) -> ScheduledTimer {
        schedule(at: Instant.now.advanced(by: delay), body)
    }

    /// Runs `body` on the reactor thread at `deadline` (or at once if it has passed),
    /// unless cancelled first. Call on the reactor thread. After the reactor stopped,
    /// `body` never runs (it is dropped and counted in ``ReactorStats/arrivedAfterStop``).
    @discardableResult
    public func schedule(at deadline: Instant, _ body: @escaping () -> Void) -> ScheduledTimer {
        if currentPhase == .stopped {
            lateWork.add(1, ordering: .relaxed)
            return ScheduledTimer(id: 0, reactor: ObjectIdentifier(self))
        }
        precondition(isOnReactorThread, "Reactor.schedule must be called on the reactor thread")
        return ScheduledTimer(id: timers.schedule(at: deadline.nanoseconds, .call(body)), reactor: ObjectIdentifier(self))
    }

    /// Cancels a closure scheduled with ``schedule(after:_:)``; returns `false` if it
    /// already ran or was cancelled, or was scheduled on another reactor. Call on the
    /// reactor thread.
    @discardableResult
    public func cancel(_ timer: ScheduledTimer) -> Bool {
        if currentPhase == .stopped || timer.reactor != ObjectIdentifier(self) { return false }
        precondition(isOnReactorThread, "Reactor.cancel must be called on the reactor thread")
        return timers.cancel(timer.id) != nil
    }

    /// The number of timers (sleeps and scheduled closures) that have not fired.
    public var pendingTimers: Int { timers.count }
}

/// A closure scheduled on a reactor with ``Reactor/schedule(after:_:)``.
public struct ScheduledTimer: Hashable, Sendable {
    let id: UInt64
    /// The reactor that scheduled it: another reactor's cancel leaves it alone.
    let reactor: ObjectIdentifier
}

/// The id of a sleeping task's timer, shared with its cancellation handler. Written and
/// read on the reactor thread only.
final class TimerHandle: @unchecked Sendable {
    var id: UInt64 = 0
}
