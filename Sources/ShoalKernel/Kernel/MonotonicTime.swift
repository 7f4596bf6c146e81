#if canImport(Glibc)
import Glibc
#endif

/// `CLOCK_MONOTONIC` in nanoseconds, and deadlines on it that never overflow.
///
/// Timed waits in the kernel layer keep an absolute deadline on this clock, so a wait
/// that a signal interrupts resumes with what is left, never with its full timeout again.
package enum MonotonicTime {
    /// Nanoseconds since the clock's origin (a vDSO call, no system call).
    @inlinable
    package static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// The instant `timeout` after `start`; `nil` means never: the timeout is beyond the
    /// clock's range (`.seconds(Int64.max)` is the usual "forever"). Negative is zero.
    package static func deadline(after timeout: Duration, from start: UInt64 = now()) -> UInt64? {
        let nanoseconds = timeout.nanosecondsClamped
        if nanoseconds <= 0 { return start }
        let (sum, overflow) = start.addingReportingOverflow(UInt64(nanoseconds))
        return overflow || sum == .max ? nil : sum
    }

    /// What is left until `deadline` as a `timespec` (zero once it has passed).
    package static func remaining(until deadline: UInt64) -> timespec {
        let current = now()
        let left = deadline > current ? deadline - current : 0
        return timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
    }
}

extension Duration {
    /// The duration in whole nanoseconds, rounded away from zero, clamped to `Int64`.
    package var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let fraction: Int64
        if attoseconds >= 0 {
            fraction = (attoseconds + 999_999_999) / 1_000_000_000
        } else {
            fraction = (attoseconds - 999_999_999) / 1_000_000_000
        }
        let (total, overflow2) = scaled.addingReportingOverflow(fraction)
        return overflow2 ? (seconds < 0 ? .min : .max) : total
    }
}

extension timespec {
    /// A relative `timespec` for `duration`: negative is zero, and a duration beyond
    /// `Int64` nanoseconds is clamped (about 292 years).
    package init(duration: Duration) {
        let nanoseconds = max(duration.nanosecondsClamped, 0)
        self.init(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    }
}
