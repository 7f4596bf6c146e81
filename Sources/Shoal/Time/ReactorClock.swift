/// A `Clock` whose sleeps are the reactor's timers.
///
/// Generic code written against `Clock` (timeouts in libraries, swift-async-algorithms'
/// `debounce` and `throttle`) runs on the reactor with it: its `sleep(until:tolerance:)`
/// is ``Reactor/sleep(until:)``, a timer on the reactor's `CLOCK_MONOTONIC`, with no
/// thread and no system call of its own. Get one from ``Reactor/clock``.
public struct ReactorClock: Clock {
    /// The reactor's instants (`CLOCK_MONOTONIC`).
    public typealias Instant = Reactor.Instant
    /// Durations are Swift's.
    public typealias Duration = Swift.Duration

    /// The reactor whose timers this clock uses.
    public let reactor: Reactor

    /// A clock for `reactor`'s timers.
    public init(reactor: Reactor) {
        self.reactor = reactor
    }

    /// The current time (a vDSO call, no system call).
    public var now: Instant { .now }

    /// One nanosecond: timers are kept in nanoseconds and never fire early.
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// Sleeps until `deadline` on a reactor timer; `tolerance` is not used (a timer
    /// fires at the first turn of the loop after its deadline).
    ///
    /// - Throws: `CancellationError` when the task is cancelled or the reactor shuts
    ///   down meanwhile; ``ReactorError/stopped(_:)`` after the reactor stopped.
    public nonisolated(nonsending) func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await reactor.sleep(until: deadline)
    }
}

extension Reactor {
    /// A `Clock` that sleeps on this reactor's timers; see ``ReactorClock``.
    public var clock: ReactorClock { ReactorClock(reactor: self) }
}
