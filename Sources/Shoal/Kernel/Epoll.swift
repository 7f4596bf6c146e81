import CShoal
#if canImport(Glibc)
import Glibc
#endif

/// An epoll readiness report (`struct epoll_event`), as ``Epoll/wait(into:timeout:)`` fills it.
public typealias EpollEvent = epoll_event

/// An epoll instance (`epoll_create1(EPOLL_CLOEXEC)`), closed exactly once.
///
/// Each registration carries a 64-bit token that comes back with its events; the
/// reactor puts a generation number in it so that a reused descriptor number is
/// never mistaken for the old one.
public struct Epoll: ~Copyable {
    /// The epoll descriptor.
    public let descriptor: Descriptor

    /// Readiness kinds, as `epoll_event.events` bits.
    public struct Events: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Readable (`EPOLLIN`).
        public static let readable = Events(rawValue: UInt32(EPOLLIN.rawValue))
        /// Writable (`EPOLLOUT`).
        public static let writable = Events(rawValue: UInt32(EPOLLOUT.rawValue))
        /// The peer closed its writing half (`EPOLLRDHUP`).
        public static let readHangUp = Events(rawValue: UInt32(EPOLLRDHUP.rawValue))
        /// Hang-up (`EPOLLHUP`); always reported.
        public static let hangUp = Events(rawValue: UInt32(EPOLLHUP.rawValue))
        /// Error (`EPOLLERR`); always reported.
        public static let error = Events(rawValue: UInt32(EPOLLERR.rawValue))
        /// Edge-triggered (`EPOLLET`): report each change once.
        public static let edgeTriggered = Events(rawValue: EPOLLET.rawValue)
        /// One-shot (`EPOLLONESHOT`): disable after one report until modified.
        public static let oneShot = Events(rawValue: EPOLLONESHOT.rawValue)
    }

    /// Creates an epoll instance (`epoll_create1(2)`).
    public init() throws(SystemCallError) {
        let fd = try retryingInterrupts("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        self.descriptor = Descriptor(takingOwnershipOf: fd)
    }

    /// Watches `fd` for `events`, reporting `token` with them (`EPOLL_CTL_ADD`).
    public func add(_ fd: Int32, events: Events, token: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_ADD, "EPOLL_CTL_ADD", fd, events, token)
    }

    /// Changes what `fd` is watched for, and its token (`EPOLL_CTL_MOD`).
    public func modify(_ fd: Int32, events: Events, token: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_MOD, "EPOLL_CTL_MOD", fd, events, token)
    }

    /// Stops watching `fd` (`EPOLL_CTL_DEL`).
    public func remove(_ fd: Int32) throws(SystemCallError) {
        try control(EPOLL_CTL_DEL, "EPOLL_CTL_DEL", fd, [], 0)
    }

    private func control(
        _ operation: Int32, _ name: String, _ fd: Int32, _ events: Events, _ token: UInt64
    ) throws(SystemCallError) {
        var event = shoal_epoll_event(events.rawValue, token)
        let epfd = descriptor.rawValue
        _ = try retryingInterrupts("epoll_ctl", detail: "\(name) of descriptor \(fd)") {
            epoll_ctl(epfd, operation, fd, &event)
        }
    }

    /// Waits for events (`epoll_wait(2)`) and returns how many were stored in `events`.
    ///
    /// - Parameter timeout: `.zero` polls, `nil` waits without limit; rounded up to
    ///   whole milliseconds so it never returns early.
    public func wait(
        into events: UnsafeMutableBufferPointer<EpollEvent>, timeout: Duration?
    ) throws(SystemCallError) -> Int {
        let milliseconds = timeout.map(Self.roundUpToMilliseconds) ?? -1
        let epfd = descriptor.rawValue
        let count = try retryingInterrupts("epoll_wait") {
            epoll_wait(epfd, events.baseAddress, Int32(events.count), milliseconds)
        }
        return Int(count)
    }

    static func roundUpToMilliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}

extension EpollEvent {
    /// The token given when the descriptor was registered.
    public var token: UInt64 { withUnsafePointer(to: self) { shoal_epoll_event_data($0) } }
    /// The readiness reported.
    public var readiness: Epoll.Events {
        Epoll.Events(rawValue: withUnsafePointer(to: self) { shoal_epoll_event_events($0) })
    }
}
