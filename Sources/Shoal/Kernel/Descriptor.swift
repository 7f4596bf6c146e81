#if canImport(Glibc)
import Glibc
#endif

/// An owned file descriptor that is closed exactly once.
///
/// `Descriptor` is non-copyable: it closes its descriptor when it goes out of scope,
/// or earlier through ``close()``, which reports a failing `close(2)`. Borrow
/// ``rawValue`` to pass it to a system call; call ``release()`` to take the number
/// back without closing it.
public struct Descriptor: ~Copyable, Sendable {
    /// The descriptor number, valid while this value lives.
    public let rawValue: Int32

    /// Takes ownership of `rawValue`, which must be an open descriptor.
    public init(takingOwnershipOf rawValue: Int32) {
        precondition(rawValue >= 0, "Descriptor requires an open descriptor, got \(rawValue)")
        self.rawValue = rawValue
    }

    /// Closes the descriptor now, reporting a failure of `close(2)`.
    ///
    /// The descriptor is released whether or not `close` reports an error (Linux
    /// frees the number either way), so it is never closed twice.
    public consuming func close() throws(SystemCallError) {
        let fd = rawValue
        discard self
        // EINTR from close(2) on Linux still frees the descriptor: never retry.
        if Glibc.close(fd) != 0, Glibc.errno != EINTR {
            throw SystemCallError(call: "close", errno: Glibc.errno, detail: "descriptor \(fd)")
        }
    }

    /// Gives up ownership without closing and returns the descriptor number.
    public consuming func release() -> Int32 {
        let fd = rawValue
        discard self
        return fd
    }

    deinit {
        _ = Glibc.close(rawValue)
    }
}
