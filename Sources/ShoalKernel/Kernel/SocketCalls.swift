import CShoal
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Typed wrappers of the socket system calls Shoal's TCP layer makes.
///
/// Sockets are non-blocking and close-on-exec; "would block" is a value (`nil`), never
/// an error; every failure names the call and the address when there is one. Sends use
/// `MSG_NOSIGNAL`, so a peer that has gone never raises `SIGPIPE`.
public enum SocketCalls {
    /// A new non-blocking TCP socket of `family` (`AF_INET` or `AF_INET6`).
    public static func tcpSocket(family: Int32) throws(SystemCallError) -> OwnedDescriptor {
        let fd = try retryingInterrupts("socket") {
            socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        return OwnedDescriptor(takingOwnershipOf: FileDescriptor(rawValue: fd))
    }

    /// Sets an integer socket option (`setsockopt`).
    public static func setOption(
        _ fd: FileDescriptor, level: Int32, name: Int32, value: Int32, label: String
    ) throws(SystemCallError) {
        var value = value
        _ = try retryingInterrupts("setsockopt", detail: label) {
            setsockopt(fd.rawValue, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Makes `close` reset the connection (`SO_LINGER` with a zero timeout).
    public static func setResetOnClose(_ fd: FileDescriptor) throws(SystemCallError) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = try retryingInterrupts("setsockopt", detail: "SO_LINGER") {
            setsockopt(fd.rawValue, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
    }

    /// Binds `fd` to the address in `storage` (`bind`).
    public static func bind(
        _ fd: FileDescriptor, _ storage: UnsafePointer<sockaddr>, length: socklen_t, address: String
    ) throws(SystemCallError) {
        if Glibc.bind(fd.rawValue, storage, length) != 0 {
            let code = Errno.current
            throw SystemCallError(call: "bind", errno: code, address: address, detail: explain(code))
        }
    }

    /// Listens with `backlog` pending connections (`listen`).
    public static func listen(_ fd: FileDescriptor, backlog: Int32, address: String) throws(SystemCallError) {
        if Glibc.listen(fd.rawValue, backlog) != 0 {
            let code = Errno.current
            throw SystemCallError(call: "listen", errno: code, address: address, detail: explain(code))
        }
    }

    /// Accepts a connection (`accept4`, non-blocking, close-on-exec); `nil` when none is
    /// pending. The peer's address goes to `storage`.
    public static func accept(
        _ fd: FileDescriptor, into storage: UnsafeMutablePointer<sockaddr_storage>, address: String
    ) throws(SystemCallError) -> OwnedDescriptor? {
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let accepted = storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                shoal_accept_nonblocking(fd.rawValue, $0, &length)
            }
            if accepted >= 0 { return OwnedDescriptor(takingOwnershipOf: FileDescriptor(rawValue: accepted)) }
            switch Errno.current {
            case .interrupted, Errno(rawValue: ECONNABORTED): continue  // a connection that went before it was taken
            case .resourceTemporarilyUnavailable, .wouldBlock: return nil
            case let code: throw SystemCallError(call: "accept", errno: code, address: address, detail: explain(code))
            }
        }
    }

    /// Starts connecting (`connect`); `true` when connected at once, `false` when the
    /// connection is under way (`EINPROGRESS`: wait until writable, then ``pendingError(_:)``).
    public static func connect(
        _ fd: FileDescriptor, _ storage: UnsafePointer<sockaddr>, length: socklen_t, address: String
    ) throws(SystemCallError) -> Bool {
        if Glibc.connect(fd.rawValue, storage, length) == 0 { return true }
        switch Errno.current {
        case .nowInProgress, .interrupted: return false
        case let code: throw SystemCallError(call: "connect", errno: code, address: address, detail: explain(code))
        }
    }

    /// The socket's pending error (`SO_ERROR`), or `nil` when there is none.
    public static func pendingError(_ fd: FileDescriptor) throws(SystemCallError) -> Errno? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try retryingInterrupts("getsockopt", detail: "SO_ERROR") {
            getsockopt(fd.rawValue, SOL_SOCKET, SO_ERROR, &value, &length)
        }
        return value == 0 ? nil : Errno(rawValue: value)
    }

    /// Receives up to `count` bytes into `base` (`recv`): the number received (0 at the
    /// end of the stream), or `nil` when nothing is there yet.
    public static func receive(
        _ fd: FileDescriptor, into base: UnsafeMutableRawPointer, count: Int, address: String
    ) throws(SystemCallError) -> Int? {
        while true {
            let received = recv(fd.rawValue, base, count, 0)
            if received >= 0 { return received }
            switch Errno.current {
            case .interrupted: continue
            case .resourceTemporarilyUnavailable, .wouldBlock: return nil
            case let code: throw SystemCallError(call: "recv", errno: code, address: address, detail: explain(code))
            }
        }
    }

    /// Sends up to `count` bytes from `base` (`send` with `MSG_NOSIGNAL`): the number
    /// sent, or `nil` when the socket's buffer is full.
    public static func send(
        _ fd: FileDescriptor, from base: UnsafeRawPointer, count: Int, address: String
    ) throws(SystemCallError) -> Int? {
        while true {
            let sent = Glibc.send(fd.rawValue, base, count, Int32(MSG_NOSIGNAL))
            if sent >= 0 { return sent }
            switch Errno.current {
            case .interrupted: continue
            case .resourceTemporarilyUnavailable, .wouldBlock: return nil
            case let code: throw SystemCallError(call: "send", errno: code, address: address, detail: explain(code))
            }
        }
    }

    /// Shuts down writing (`shutdown(SHUT_WR)`): the peer reads the end of the stream.
    public static func shutdownWriting(_ fd: FileDescriptor, address: String) throws(SystemCallError) {
        if Glibc.shutdown(fd.rawValue, Int32(SHUT_WR)) != 0 {
            let code = Errno.current
            throw SystemCallError(call: "shutdown", errno: code, address: address, detail: explain(code))
        }
    }

    /// The local (`getsockname`) or remote (`getpeername`) address of `fd`.
    public static func address(
        of fd: FileDescriptor, remote: Bool, into storage: UnsafeMutablePointer<sockaddr_storage>
    ) throws(SystemCallError) {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = storage.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            remote ? getpeername(fd.rawValue, $0, &length) : getsockname(fd.rawValue, $0, &length)
        }
        if result != 0 { throw SystemCallError(call: remote ? "getpeername" : "getsockname", errno: .current) }
    }

    /// What a socket error usually means, in words: the detail of its ``SystemCallError``.
    public static func explain(_ code: Errno) -> String? {
        switch code {
        case .addressInUse: "another socket is bound to this address (is a server already running?)"
        case .addressNotAvailable: "no local interface has this address"
        case .connectionRefused: "nothing listens at this address"
        case .connectionReset: "the peer reset the connection"
        case .brokenPipe: "the peer closed the connection"
        case .timedOut: "the peer stopped answering"
        case .noRouteToHost, .networkUnreachable: "no route to the peer"
        case .permissionDenied: "ports below 1024 need privileges"
        case .tooManyOpenFiles: "the process is out of descriptors (ulimit -n)"
        case .tooManyOpenFilesInSystem: "the system is out of descriptors (fs.file-max)"
        default: nil
        }
    }
}
