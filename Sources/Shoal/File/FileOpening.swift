import CShoal
import ShoalKernel
#if canImport(Glibc)
import Glibc
#endif

/// The blocking half of ``File/open(_:_:options:permissions:directIO:on:)``: runs on the
/// blocking-call thread.
enum FileOpening {
    struct Opened: Sendable {
        let descriptor: FileDescriptor
        let isDirect: Bool
        let alignment: File.Alignment
        let directIOUnavailableReason: String?
    }

    static func open(
        _ path: FilePath, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions,
        permissions: FilePermissions, directIO: File.DirectIO
    ) throws -> Opened {
        // O_NONBLOCK: opening a FIFO must not wait for its other end. It changes nothing
        // for regular files and block devices, the only kinds kept.
        let flags = mode.rawValue | options.rawValue | O_CLOEXEC | O_NONBLOCK
        let descriptor = retryingOpen(path, flags, permissions)
        if descriptor < 0 { throw SystemCallError(call: "open", errno: .current, path: path) }
        let fd = FileDescriptor(rawValue: descriptor)
        do {
            try checkKind(fd, path)
            // Direct I/O is switched on after the open (fcntl F_SETFL), so a file system
            // that refuses it never sees an open that creates the file and then fails.
            // O_NONBLOCK goes: AIO and positional calls ignore it, but a block device
            // read through the page cache must not see EAGAIN.
            let status = fcntl(descriptor, F_GETFL) & ~O_NONBLOCK
            var reason: String? = directIO == .disabled ? "direct I/O disabled" : nil
            if directIO != .disabled && fcntl(descriptor, F_SETFL, status | shoal_o_direct()) != 0 {
                let code = Errno.current
                guard code == .invalidArgument else { throw SystemCallError(call: "fcntl", errno: code, path: path) }
                reason = "this file system does not support O_DIRECT"
                if directIO == .required {
                    throw SystemCallError(call: "open", errno: code, path: path, detail: reason)
                }
            }
            if reason != nil { _ = fcntl(descriptor, F_SETFL, status) }
            let isDirect = reason == nil
            var alignment = File.Alignment.none
            if isDirect {
                let found = try FileCalls.directIOAlignment(of: fd)
                alignment = File.Alignment(memory: found.memory, offset: found.offset)
            }
            return Opened(descriptor: fd, isDirect: isDirect, alignment: alignment, directIOUnavailableReason: reason)
        } catch {
            _ = Glibc.close(descriptor)
            // A file this call created (exclusively) goes with the failure.
            if options.contains(.exclusiveCreate) && options.contains(.create) {
                _ = path.withPlatformString { Glibc.unlink($0) }
            }
            throw error
        }
    }

    private static func retryingOpen(_ path: FilePath, _ flags: Int32, _ permissions: FilePermissions) -> Int32 {
        while true {
            let fd = path.withPlatformString { Glibc.open($0, flags, permissions.rawValue) }
            if fd >= 0 || Errno.current != .interrupted { return fd }
        }
    }

    /// Refuses what has no offsets (a FIFO, socket or character device) and directories.
    private static func checkKind(_ fd: FileDescriptor, _ path: FilePath) throws {
        var info = stat()
        guard fstat(fd.rawValue, &info) == 0 else { throw SystemCallError(call: "fstat", errno: .current, path: path) }
        switch info.st_mode & S_IFMT {
        case S_IFREG, S_IFBLK:
            return
        case S_IFDIR:
            throw SystemCallError(call: "open", errno: .isDirectory, path: path, detail: "a directory is not a file")
        case S_IFIFO:
            throw SystemCallError(call: "open", errno: .illegalSeek, path: path, detail: "a FIFO has no offsets to read at")
        case S_IFSOCK:
            throw SystemCallError(call: "open", errno: .illegalSeek, path: path, detail: "a socket has no offsets to read at")
        default:
            throw SystemCallError(
                call: "open", errno: .illegalSeek, path: path, detail: "a character device has no offsets to read at")
        }
    }
}
