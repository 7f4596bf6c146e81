import CShoal
import SystemPackage

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
    public let descriptor: OwnedDescriptor

    /// Readiness kinds, as `epoll_event.events` bits.
    public struct Events: OptionSet, Sendable, Hashable {
        /// The `EPOLL*` bits.
        public let rawValue: UInt32
        /// Events from their `EPOLL*` bits.
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
        self.descriptor = OwnedDescriptor(takingOwnershipOf: FileDescriptor(rawValue: fd))
    }

    /// Watches `fd` for `events`, reporting `token` with them (`EPOLL_CTL_ADD`).
    public func add(_ fd: FileDescriptor, events: Events, token: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_ADD, "EPOLL_CTL_ADD", fd, events, token)
    }

    /// Changes what `fd` is watched for, and its token (`EPOLL_CTL_MOD`).
    public func modify(_ fd: FileDescriptor, events: Events, token: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_MOD, "EPOLL_CTL_MOD", fd, events, token)
    }

    /// Stops watching `fd` (`EPOLL_CTL_DEL`).
    public func remove(_ fd: FileDescriptor) throws(SystemCallError) {
        try control(EPOLL_CTL_DEL, "EPOLL_CTL_DEL", fd, [], 0)
    }

    private func control(
        _ operation: Int32, _ name: String, _ fd: FileDescriptor, _ events: Events, _ token: UInt64
    ) throws(SystemCallError) {
        var event = shoal_epoll_event(events.rawValue, token)
        let epfd = descriptor.rawValue
        _ = try retryingInterrupts("epoll_ctl", detail: "\(name) of descriptor \(fd.rawValue)") {
            epoll_ctl(epfd, operation, fd.rawValue, &event)
        }
    }

    /// Waits for events (`epoll_wait(2)`) and returns how many were stored in `events`.
    ///
    /// - Parameters:
    ///   - events: where the ready events are stored (at most its count).
    ///   - timeout: `.zero` (or negative) polls; `nil`, or a timeout too far
    ///   away to represent, waits without limit. Rounded up to whole milliseconds so it
    ///   never returns early; a signal does not restart the wait's full timeout.
    public func wait(
        into events: UnsafeMutableBufferPointer<EpollEvent>, timeout: Duration?
    ) throws(SystemCallError) -> Int {
        let epfd = descriptor.rawValue
        let deadline = timeout.map { MonotonicTime.deadline(after: $0) } ?? nil
        let polls = timeout.map { $0 <= .zero } ?? false
        while true {
            var milliseconds: Int32 = -1
            if polls {
                milliseconds = 0
            } else if let deadline {
                let now = MonotonicTime.now()
                milliseconds = deadline > now ? Self.roundUpToMilliseconds(nanoseconds: deadline - now) : 0
            }
            let count = epoll_wait(epfd, events.baseAddress, Int32(events.count), milliseconds)
            if count > 0 { return Int(count) }
            if count < 0 && Errno.current != .interrupted {
                throw SystemCallError(call: "epoll_wait", errno: .current, detail: "epoll descriptor \(epfd)")
            }
            // Nothing yet: done if this was a poll or the deadline passed; otherwise a
            // signal interrupted the wait, or a timeout beyond Int32 milliseconds ended.
            if polls || milliseconds == 0 { return 0 }
            if let deadline, MonotonicTime.now() >= deadline { return 0 }
        }
    }

    /// Milliseconds for `epoll_wait`, rounded up and clamped to `Int32`.
    static func roundUpToMilliseconds(nanoseconds: UInt64) -> Int32 {
        let milliseconds = nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 == 0 ? 0 : 1)
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
