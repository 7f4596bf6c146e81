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
        // What has no offsets is refused before it is opened: opening a socket fails
        // (ENXIO), a FIFO may wait for its other end, a device may act on the open.
        var info = stat()
        if path.withPlatformString({ fstatat(AT_FDCWD, $0, &info, 0) }) == 0 { try checkKind(info.st_mode, path) }
        // O_TRUNC waits until the file is known to be usable, and O_CREAT is made
        // exclusive when possible, so that a failure (direct I/O required and refused)
        // leaves an existing file as it was and removes a file this call created.
        // O_NONBLOCK keeps a FIFO that appeared meanwhile from blocking the open; it
        // changes nothing for regular files and block devices, the only kinds kept.
        let base = mode.rawValue | (options.rawValue & ~(O_TRUNC | O_CREAT | O_EXCL)) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY
        var descriptor: Int32 = -1
        // The file this call created, removed again if the open fails after all.
        var created: FilePath?
        if options.contains(.create) {
            descriptor = retryingOpen(path, base | O_CREAT | O_EXCL, permissions)
            if descriptor >= 0 { created = path }
            if descriptor < 0 && (Errno.current != .fileExists || options.contains(.exclusiveCreate)) {
                throw SystemCallError(call: "open", errno: .current, path: path)
            }
        }
        if descriptor < 0 {
            descriptor = retryingOpen(path, base, permissions)
            if descriptor < 0 && Errno.current == .noSuchFileOrDirectory && options.contains(.create) {
                // It exists (EEXIST) and does not (ENOENT): a symbolic link to nothing.
                // open(2) with O_CREAT follows it and creates its target (within the
                // kernel's rules for links in shared folders): so does this.
                descriptor = retryingOpen(path, base | O_CREAT, permissions)
                if descriptor >= 0 { created = createdTarget(of: descriptor) }
            }
            if descriptor < 0 { throw SystemCallError(call: "open", errno: .current, path: path) }
        }
        let fd = FileDescriptor(rawValue: descriptor)
        do {
            var opened = stat()
            guard fstat(descriptor, &opened) == 0 else {
                throw SystemCallError(call: "fstat", errno: .current, path: path)
            }
            try checkKind(opened.st_mode, path)
            // Direct I/O is switched on after the open (fcntl F_SETFL). O_NONBLOCK goes:
            // AIO and positional calls ignore it, but a block device read through the page
            // cache must not see EAGAIN.
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
            if options.contains(.truncate) && created == nil && ftruncate(descriptor, 0) != 0 {
                throw SystemCallError(call: "ftruncate", errno: .current, path: path, detail: "to 0 bytes (O_TRUNC)")
            }
            let isDirect = reason == nil
            var alignment = File.Alignment.none
            if isDirect {
                let found = try FileCalls.directIOAlignment(of: fd)
                alignment = File.Alignment(memory: found.memory, offset: found.offset)
            }
            return Opened(descriptor: fd, isDirect: isDirect, alignment: alignment, directIOUnavailableReason: reason)
        } catch {
            _ = Glibc.close(descriptor)
            // A file this call created goes with the failure.
            if let created { _ = created.withPlatformString { Glibc.unlink($0) } }
            throw error
        }
    }

    /// The path of the empty file just created at `descriptor` through a dangling
    /// symbolic link (the kernel's name for it, from `/proc/self/fd`), or `nil` if it
    /// cannot be told or is not that file: nothing is removed then.
    private static func createdTarget(of descriptor: Int32) -> FilePath? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let target = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Made by this call, as far as can be told: the same file, and still empty (a
        // file someone else made there between the two opens would not be).
        var opened = stat()
        var named = stat()
        guard target.hasPrefix("/"), fstat(descriptor, &opened) == 0, lstat(target, &named) == 0,
            opened.st_dev == named.st_dev, opened.st_ino == named.st_ino, opened.st_size == 0
        else { return nil }
        return FilePath(target)
    }

    private static func retryingOpen(_ path: FilePath, _ flags: Int32, _ permissions: FilePermissions) -> Int32 {
        while true {
            let fd = path.withPlatformString { Glibc.open($0, flags, permissions.rawValue) }
            if fd >= 0 || Errno.current != .interrupted { return fd }
        }
    }

    /// Refuses what has no offsets (a FIFO, socket or character device) and directories.
    private static func checkKind(_ mode: mode_t, _ path: FilePath) throws {
        switch mode & S_IFMT {
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
