import ShoalKernel

extension Reactor {
    /// A point in time on `CLOCK_MONOTONIC`, the clock of the reactor's timers.
    public struct Instant: InstantProtocol, Sendable, CustomStringConvertible {
        /// Nanoseconds since the clock's (boot-time) origin.
        public let nanoseconds: UInt64

        /// Creates an instant `nanoseconds` after the clock's origin.
        public init(nanoseconds: UInt64) {
            self.nanoseconds = nanoseconds
        }

        /// The current time (a vDSO call, no system call).
        public static var now: Instant { Instant(nanoseconds: Reactor.now()) }

        /// The instant `duration` later (earlier if negative), clamped to the clock's
        /// range: `Instant(nanoseconds: .max)` is as far as it goes, and a timer there
        /// never fires.
        public func advanced(by duration: Duration) -> Instant {
            let delta = duration.nanosecondsClamped
            // Int64.max nanoseconds (292 years) or more is "never", whatever the start.
            if delta == .max { return Instant(nanoseconds: .max) }
            if delta >= 0 {
                let (sum, overflow) = nanoseconds.addingReportingOverflow(UInt64(delta))
                return Instant(nanoseconds: overflow ? .max : sum)
            }
            let magnitude = delta == .min ? UInt64(Int64.max) + 1 : UInt64(-delta)
            return Instant(nanoseconds: nanoseconds > magnitude ? nanoseconds - magnitude : 0)
        }

        /// The duration from `self` to `other` (negative if `other` is earlier).
        public func duration(to other: Instant) -> Duration {
            other.nanoseconds >= nanoseconds
                ? .nanoseconds(Int64(clamping: other.nanoseconds - nanoseconds))
                : .nanoseconds(-Int64(clamping: nanoseconds - other.nanoseconds))
        }

        /// Whether `lhs` comes before `rhs`.
        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            lhs.nanoseconds < rhs.nanoseconds
        }

        /// `Instant(N ns)`.
        public var description: String { "Instant(\(nanoseconds) ns)" }
    }
}
