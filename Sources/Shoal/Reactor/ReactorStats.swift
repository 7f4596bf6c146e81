/// A snapshot of a reactor's counters: what it ran, how it slept, which system calls it made.
///
/// Cheap to take (``Reactor/stats``). Subtract two snapshots to measure an interval.
public struct ReactorStats: Equatable, Sendable {
    /// Turns of the run loop.
    public var ticks = 0
    /// Swift task and actor jobs run.
    public var jobsRun = 0
    /// Closures run (``Reactor/execute(_:)``).
    public var closuresRun = 0
    /// Jobs handed to the reactor by the Swift runtime (both executor faces, any thread).
    public var enqueues = 0
    /// Jobs and closures that arrived from other threads.
    public var remoteEnqueues = 0
    /// Times the reactor entered the blocking step.
    public var sleeps = 0
    /// Nanoseconds spent in the blocking step.
    public var nanosecondsAsleep: UInt64 = 0
    /// Times a task yielded because the quota was spent (``Reactor/yieldIfNeeded()``).
    public var quotaYields = 0
    /// Timers fired (sleeps ended and scheduled closures run).
    public var timersFired = 0
    /// AIO completions handled (disk I/O and readiness polls).
    public var completions = 0
    /// Completions the reaper copied from the ring in user space.
    public var userSpaceCompletions = 0
    /// `io_submit` system calls.
    public var ioSubmitCalls = 0
    /// `io_getevents` system calls.
    public var ioGeteventsCalls = 0
    /// `io_cancel` system calls.
    public var ioCancelCalls = 0
    /// `epoll_wait` system calls.
    public var epollWaitCalls = 0
    /// Reads of the wake-up eventfd.
    public var eventfdReads = 0
    /// Writes to the wake-up eventfd (by any thread).
    public var eventfdWrites = 0
    /// Jobs (run on a serial queue off the reactor thread) and closures (dropped) that
    /// arrived after the loop stopped, or were left queued when it stopped. The first is
    /// logged as a warning.
    public var arrivedAfterStop = 0
    /// Calls made on the blocking-call thread (``Reactor/performBlocking(_:)``): file
    /// opens, metadata calls, buffered file I/O.
    public var blockingCalls = 0
    /// Ticks that held the reactor thread longer than
    /// ``Reactor/Configuration/stallThreshold`` (see the reactor's warnings).
    public var stalls = 0
    /// The longest stall seen, in nanoseconds (not a count: ``since(_:)`` keeps it).
    public var longestStallNanoseconds: UInt64 = 0

    /// All system calls the reactor made for its own loop, by the counts above.
    public var systemCalls: Int {
        ioSubmitCalls + ioGeteventsCalls + ioCancelCalls + epollWaitCalls + eventfdReads + eventfdWrites
    }

    /// Creates an all-zero snapshot.
    public init() {}

    /// The counts of `self` minus those of `earlier`.
    public func since(_ earlier: ReactorStats) -> ReactorStats {
        var difference = self
        for field in Self.counts { difference[keyPath: field] -= earlier[keyPath: field] }
        difference.nanosecondsAsleep = nanosecondsAsleep &- earlier.nanosecondsAsleep
        return difference
    }

    /// Every `Int` counter.
    private static var counts: [WritableKeyPath<ReactorStats, Int>] {
        [
            \.ticks, \.jobsRun, \.closuresRun, \.enqueues, \.remoteEnqueues, \.sleeps, \.quotaYields,
            \.timersFired, \.completions, \.userSpaceCompletions, \.ioSubmitCalls, \.ioGeteventsCalls,
            \.ioCancelCalls, \.epollWaitCalls, \.eventfdReads, \.eventfdWrites, \.arrivedAfterStop, \.stalls,
            \.blockingCalls,
        ]
    }
}
