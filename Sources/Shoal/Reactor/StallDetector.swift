import Logging
import ShoalKernel

/// Notices turns of the loop that hold the reactor thread too long: a task or closure
/// that blocked (a blocking system call, a long computation that never yields), or a
/// system call that blocked in the kernel.
///
/// The loop reads the clock at the end of every tick anyway; a tick whose busy time
/// (the blocking step excluded) passes the threshold is a stall: it is counted in
/// ``ReactorStats/stalls`` and logged as a warning, at most once a second (the next
/// warning says how many were not logged).
struct StallDetector {
    private var lastWarning: UInt64 = 0
    private var unlogged = 0

    /// The threshold in nanoseconds: `.max` when detection is off. The loop compares a
    /// tick's busy time with it and calls ``report(_:at:threshold:counters:logger:)``
    /// only past it, so a tick pays one comparison.
    static func threshold(_ duration: Duration?) -> UInt64 {
        duration.map { UInt64(max($0.nanosecondsClamped, 0)) } ?? .max
    }

    /// Counts a stall of `duration` nanoseconds ending at `now`, and logs it unless one
    /// was logged less than a second ago.
    mutating func report(
        _ duration: UInt64, at now: UInt64, threshold: UInt64, counters: inout ReactorStats, logger: Logger
    ) {
        counters.stalls &+= 1
        counters.longestStallNanoseconds = max(counters.longestStallNanoseconds, duration)
        if lastWarning != 0 && now &- lastWarning < 1_000_000_000 {
            unlogged += 1
            return
        }
        let stall = Self.milliseconds(duration)
        let limit = Self.milliseconds(threshold)
        logger.warning(
            """
            reactor stalled: one turn of the loop held the reactor thread for \(stall) ms (threshold \(limit) ms); \
            something blocked the thread or ran without yielding
            """,
            metadata: ["stall_ms": "\(Self.milliseconds(duration))", "stalls_not_logged": "\(unlogged)"])
        lastWarning = now
        unlogged = 0
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> String {
        let tenths = (nanoseconds + 50_000) / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}
