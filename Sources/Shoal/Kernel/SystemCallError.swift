#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, the `errno` it returned, and what it was doing.
///
/// Every wrapper in Shoal's kernel layer throws this type. `EINTR` never reaches you
/// (wrappers retry it) and "would block" is reported as a value, not as an error.
public struct SystemCallError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The name of the system call that failed, for example `"io_submit"`.
    public let call: String
    /// The `errno` value the call reported.
    public let errno: Int32
    /// Extra context: the path, the request, or advice on how to fix the failure.
    public let detail: String?

    /// Creates an error for `call` that failed with `errno`.
    public init(call: String, errno: Int32, detail: String? = nil) {
        self.call = call
        self.errno = errno
        self.detail = detail
    }

    /// The symbolic name of ``errno`` (`"EAGAIN"`), or its number when unknown.
    public var errnoName: String { ErrnoNames.name(of: errno) }

    /// A message that names the call, the reason, and the detail.
    public var description: String {
        let reason = String(cString: strerror(errno))
        var text = "\(call) failed: \(reason) (\(errnoName))"
        if let detail { text += ": \(detail)" }
        return text
    }
}

/// Symbolic names of the `errno` values a user of Shoal is likely to meet.
enum ErrnoNames {
    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
        EEXIST: "EEXIST", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL",
        ENFILE: "ENFILE", EMFILE: "EMFILE", EFBIG: "EFBIG", ENOSPC: "ENOSPC",
        ESPIPE: "ESPIPE", EROFS: "EROFS", EPIPE: "EPIPE", ENOSYS: "ENOSYS",
        ENAMETOOLONG: "ENAMETOOLONG", ENOTSUP: "EOPNOTSUPP", ECANCELED: "ECANCELED",
        EADDRINUSE: "EADDRINUSE", EADDRNOTAVAIL: "EADDRNOTAVAIL", ECONNRESET: "ECONNRESET",
        ECONNREFUSED: "ECONNREFUSED", ETIMEDOUT: "ETIMEDOUT", EINPROGRESS: "EINPROGRESS",
        EALREADY: "EALREADY", ENOTCONN: "ENOTCONN", EDQUOT: "EDQUOT",
    ]

    static func name(of code: Int32) -> String {
        names[code] ?? "errno \(code)"
    }
}

/// Runs a system call, retrying `EINTR`; throws ``SystemCallError`` on any other failure.
///
/// `body` returns the raw result: a negative value means failure with `errno` set.
@inline(__always)
func retryingInterrupts<R: BinaryInteger>(
    _ call: String,
    detail: @autoclosure () -> String? = nil,
    _ body: () -> R
) throws(SystemCallError) -> R {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw SystemCallError(call: call, errno: code, detail: detail())
    }
}

/// Like ``retryingInterrupts(_:detail:_:)``, but reports `EAGAIN`/`EWOULDBLOCK` as `nil`.
@inline(__always)
func retryingInterruptsUnlessWouldBlock<R: BinaryInteger>(
    _ call: String,
    detail: @autoclosure () -> String? = nil,
    _ body: () -> R
) throws(SystemCallError) -> R? {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return nil }
        throw SystemCallError(call: call, errno: code, detail: detail())
    }
}
