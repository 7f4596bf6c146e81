import CShoal
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking eventfd counter (`eventfd(2)`), closed exactly once.
///
/// Writers add to the counter; a read returns the sum and resets it to zero. Shoal
/// uses one to wake a sleeping reactor from another thread; every method is safe to call
/// from any thread.
public struct EventFD: ~Copyable, Sendable {
    /// The eventfd descriptor.
    public let descriptor: OwnedDescriptor

    /// Creates an eventfd with counter `initialValue` (`EFD_NONBLOCK | EFD_CLOEXEC`).
    public init(initialValue: UInt32 = 0) throws(SystemCallError) {
        let fd = try retryingInterrupts("eventfd") {
            eventfd(initialValue, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        }
        self.descriptor = OwnedDescriptor(takingOwnershipOf: FileDescriptor(rawValue: fd))
    }

    /// Adds `value` to the counter (`write(2)` of 8 bytes). Safe from any thread.
    ///
    /// - Returns: `false` if the counter is saturated (would block); readers still wake.
    @discardableResult
    public func signal(_ value: UInt64 = 1) throws(SystemCallError) -> Bool {
        var value = value
        let fd = descriptor.rawValue
        let written = try retryingInterruptsUnlessWouldBlock("write", detail: "eventfd \(fd)") {
            Glibc.write(fd, &value, 8)
        }
        return written != nil
    }

    /// Reads and resets the counter (`read(2)` of 8 bytes); `nil` when it is zero.
    public func drain() throws(SystemCallError) -> UInt64? {
        try readCounter(of: descriptor, kind: "eventfd")
    }
}

/// Reads the 8-byte counter of an eventfd or timerfd; `nil` when it is zero (would block).
func readCounter(of descriptor: borrowing OwnedDescriptor, kind: String) throws(SystemCallError) -> UInt64? {
    var value: UInt64 = 0
    let fd = descriptor.rawValue
    let read = try retryingInterruptsUnlessWouldBlock("read", detail: "\(kind) \(fd)") {
        Glibc.read(fd, &value, 8)
    }
    return read == nil ? nil : value
}
