import Logging

extension Reactor {
    /// How a reactor runs. The defaults suit a server; every field can be changed.
    public struct Configuration: Sendable {
        /// How long the reactor runs compute tasks before it turns to I/O and timers:
        /// the task quota. Default 0.5 ms. Long computations should call
        /// ``Reactor/yieldIfNeeded()`` so the quota can be honoured.
        public var taskQuota: Duration = .microseconds(500)

        /// AIO requests that may be in flight at once: the size asked of `io_setup`.
        /// More can be queued; they are submitted as completions free slots. Default 1024.
        public var maximumIOInFlight: Int = 1024

        /// Reap every completion with the `io_getevents` system call instead of reading
        /// the ring in user space (libaio's behaviour, for comparisons). Default `false`.
        public var forcesSystemCallReap: Bool = false

        /// How long shutdown may keep running tasks after the root task has returned,
        /// before the remaining jobs are handed to the global executor. Default 5 s.
        public var shutdownGracePeriod: Duration = .seconds(5)

        /// Where the reactor logs (ring fallback, shutdown). Default label `shoal.reactor`.
        public var logger = Logger(label: "shoal.reactor")

        /// The default configuration.
        public init() {}

        /// Throws ``ReactorError/invalidConfiguration(_:)`` naming the first bad field.
        func validate() throws(ReactorError) {
            guard taskQuota > .zero else {
                throw .invalidConfiguration("taskQuota must be positive, got \(taskQuota)")
            }
            guard (1...65_536).contains(maximumIOInFlight) else {
                throw .invalidConfiguration("maximumIOInFlight must be between 1 and 65536, got \(maximumIOInFlight)")
            }
            guard shutdownGracePeriod >= .zero else {
                throw .invalidConfiguration("shutdownGracePeriod must not be negative, got \(shutdownGracePeriod)")
            }
        }
    }
}
