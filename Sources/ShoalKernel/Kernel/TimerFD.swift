import CShoal
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking `CLOCK_MONOTONIC` timer descriptor (`timerfd_create(2)`), closed
/// exactly once. It becomes readable when it expires.
public struct TimerFD: ~Copyable {
    /// The timerfd descriptor.
    public let descriptor: OwnedDescriptor

    /// Creates a disarmed timer (`TFD_NONBLOCK | TFD_CLOEXEC`).
    public init() throws(SystemCallError) {
        let fd = try retryingInterrupts("timerfd_create") {
            timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        }
        self.descriptor = OwnedDescriptor(takingOwnershipOf: FileDescriptor(rawValue: fd))
    }

    /// Arms the timer to expire after `delay`, then every `interval` if given
    /// (`timerfd_settime(2)`, relative). A zero or negative `delay` expires at once.
    public func arm(after delay: Duration, repeatingEvery interval: Duration? = nil) throws(SystemCallError) {
        // A zero it_value would disarm: the smallest positive delay expires at once.
        var value = timespec(duration: delay)
        if value.tv_sec == 0 && value.tv_nsec == 0 { value.tv_nsec = 1 }
        var spec = itimerspec(it_interval: interval.map(timespec.init(duration:)) ?? timespec(), it_value: value)
        try set(&spec, flags: 0)
    }

    /// Arms the timer to expire at `deadline` on `CLOCK_MONOTONIC` (absolute).
    public func arm(atMonotonicNanoseconds deadline: UInt64) throws(SystemCallError) {
        let value = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        var spec = itimerspec(it_interval: timespec(), it_value: value)
        if deadline == 0 { spec.it_value.tv_nsec = 1 }
        try set(&spec, flags: Int32(TFD_TIMER_ABSTIME))
    }

    /// Disarms the timer.
    public func disarm() throws(SystemCallError) {
        var spec = itimerspec()
        try set(&spec, flags: 0)
    }

    private func set(_ spec: inout itimerspec, flags: Int32) throws(SystemCallError) {
        let fd = descriptor.rawValue
        _ = try retryingInterrupts("timerfd_settime", detail: "timerfd \(fd)") {
            timerfd_settime(fd, flags, &spec, nil)
        }
    }

    /// Reads and resets the expiration count; `nil` when the timer has not expired.
    public func drain() throws(SystemCallError) -> UInt64? {
        try readCounter(of: descriptor, kind: "timerfd")
    }
}
