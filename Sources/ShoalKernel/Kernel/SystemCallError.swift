import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the operation, the `Errno` it returned, and what it was
/// working on (a path, an address, a descriptor or a request).
///
/// This is Shoal's one error shape for failures of the operating system, thrown by the
/// kernel layer and by every layer above it. `EINTR` never reaches you (calls are
/// retried, and timed waits keep their deadline), and "would block" is reported as a
/// value, not as an error.
public struct SystemCallError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The operation that failed: the system call (`"open"`, `"io_submit"`) or, for a
    /// request that failed in the kernel after submission, the AIO operation (`"read"`).
    public let call: String
    /// The error the kernel reported.
    public let errno: Errno
    /// The file the call worked on, when there is one.
    public let path: FilePath?
    /// The network address the call worked on (`"127.0.0.1:8080"`), when there is one.
    public let address: String?
    /// Other context: the descriptor or request, or advice on how to fix the failure.
    public let detail: String?

    /// Creates an error for `call` that failed with `errno`.
    public init(
        call: String, errno: Errno, path: FilePath? = nil, address: String? = nil, detail: String? = nil
    ) {
        self.call = call
        self.errno = errno
        self.path = path
        self.address = address
        self.detail = detail
    }

    /// A message that names the call, what it worked on, and the reason:
    /// `open /srv/a.txt: No such file or directory (errno 2)`.
    public var description: String {
        var text = call
        if let path { text += " \(path)" }
        if let address { text += " \(address)" }
        text += ": \(errno) (errno \(errno.rawValue))"
        if let detail { text += "; \(detail)" }
        return text
    }
}

extension Errno {
    /// The calling thread's current `errno`.
    @inlinable
    package static var current: Errno { Errno(rawValue: Glibc.errno) }
}

/// Runs a system call, retrying `EINTR`; throws ``SystemCallError`` on any other failure.
///
/// `body` returns the raw result: a negative value means failure with `errno` set.
@inline(__always)
func retryingInterrupts<R: BinaryInteger>(
    _ call: String,
    path: FilePath? = nil,
    detail: @autoclosure () -> String? = nil,
    _ body: () -> R
) throws(SystemCallError) -> R {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = Errno.current
        if code == .interrupted { continue }
        throw SystemCallError(call: call, errno: code, path: path, detail: detail())
    }
}

/// Like ``retryingInterrupts(_:path:detail:_:)``, but reports `EAGAIN`/`EWOULDBLOCK` as `nil`.
@inline(__always)
func retryingInterruptsUnlessWouldBlock<R: BinaryInteger>(
    _ call: String,
    detail: @autoclosure () -> String? = nil,
    _ body: () -> R
) throws(SystemCallError) -> R? {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = Errno.current
        if code == .interrupted { continue }
        if code == .resourceTemporarilyUnavailable || code == .wouldBlock { return nil }
        throw SystemCallError(call: call, errno: code, detail: detail())
    }
}
