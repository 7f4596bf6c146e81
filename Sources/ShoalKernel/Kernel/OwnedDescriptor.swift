import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor that is closed exactly once.
///
/// swift-system's `FileDescriptor` is a plain number that any copy may close;
/// `OwnedDescriptor` is non-copyable: it closes its descriptor when it goes out of
/// scope, or earlier through ``close()``, which reports a failing `close(2)`. Borrow
/// ``descriptor`` to pass it to a call; ``release()`` takes the descriptor back
/// without closing it.
public struct OwnedDescriptor: ~Copyable, Sendable {
    /// The descriptor, valid while this value lives.
    public let descriptor: FileDescriptor

    /// The descriptor number.
    public var rawValue: Int32 { descriptor.rawValue }

    /// Takes ownership of `descriptor`, which must be open.
    public init(takingOwnershipOf descriptor: FileDescriptor) {
        precondition(descriptor.rawValue >= 0, "OwnedDescriptor requires an open descriptor, got \(descriptor.rawValue)")
        self.descriptor = descriptor
    }

    /// Closes the descriptor now, reporting a failure of `close(2)`.
    ///
    /// The descriptor is released whether or not `close` reports an error (Linux
    /// frees the number either way), so it is never closed twice.
    public consuming func close() throws(SystemCallError) {
        let fd = descriptor.rawValue
        discard self
        // EINTR from close(2) on Linux still frees the descriptor: never retry.
        if Glibc.close(fd) != 0, Errno.current != .interrupted {
            throw SystemCallError(call: "close", errno: .current, detail: "descriptor \(fd)")
        }
    }

    /// Gives up ownership without closing and returns the descriptor.
    public consuming func release() -> FileDescriptor {
        let fd = descriptor
        discard self
        return fd
    }

    deinit {
        _ = Glibc.close(descriptor.rawValue)
    }
}
