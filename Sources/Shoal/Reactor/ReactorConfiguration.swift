public import Logging

extension Reactor {
    /// How a reactor runs. The defaults suit a server; every field can be changed.
    ///
    /// Durations accept any value: a negative one counts as zero, and one too long for
    /// the clock (`.seconds(Int64.max)`) as "never".
    public struct Configuration: Sendable {
        /// How long the reactor runs compute tasks before it turns to I/O and timers:
        /// the task quota. Default 0.5 ms; zero runs one job per tick. Long computations
        /// should call ``Reactor/yieldIfNeeded()`` so the quota can be honoured.
        public var taskQuota: Duration = .microseconds(500)

        /// AIO requests that may be in flight at once. More can be queued; they are
        /// submitted as completions free slots. The AIO context gets two more slots,
        /// kept for the reactor's own polls (so at most 65,534: the system-wide default
        /// `fs.aio-max-nr` is 65,536). Between 1 and 65,534; default 1024.
        public var maximumIOInFlight: Int = 1024

        /// Reap every completion with the `io_getevents` system call instead of reading
        /// the ring in user space (libaio's behaviour, for comparisons). Default `false`.
        public var forcesSystemCallReap: Bool = false

        /// How long shutdown may keep running tasks, I/O and timers after the root task
        /// has returned, before the loop stops anyway. Default 5 s.
        public var shutdownGracePeriod: Duration = .seconds(5)

        /// A turn of the loop that holds the reactor thread longer than this (a task
        /// that blocked, or computed without yielding) is a stall: counted in
        /// ``ReactorStats/stalls`` and logged as a warning, at most once a second.
        /// Default 25 ms; `nil` turns detection off.
        public var stallThreshold: Duration? = .milliseconds(25)

        /// Where the reactor logs (ring fallback, shutdown). Default label `shoal.reactor`.
        public var logger = Logger(label: "shoal.reactor")

        /// The default configuration.
        public init() {}

        /// Throws ``ReactorError/invalidConfiguration(_:)`` naming the first bad field.
        func validate() throws(ReactorError) {
            guard (1...65_534).contains(maximumIOInFlight) else {
                throw .invalidConfiguration("maximumIOInFlight must be between 1 and 65534, got \(maximumIOInFlight)")
            }
        }
    }
}
