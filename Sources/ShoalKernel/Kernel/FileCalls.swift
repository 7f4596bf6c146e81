import CShoal
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Typed wrappers of the file system calls Shoal's file layer needs.
///
/// Every error names the call and, where there is one, the path.
public enum FileCalls {
    /// How to open a file, as `open(2)` flags.
    public struct OpenOptions: OptionSet, Sendable {
        /// The `open(2)` flags.
        public let rawValue: Int32
        /// Options from their `open(2)` flags.
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// Open for reading only (`O_RDONLY`, the default).
        public static let readOnly: OpenOptions = []
        /// Open for writing only (`O_WRONLY`).
        public static let writeOnly = OpenOptions(rawValue: O_WRONLY)
        /// Open for reading and writing (`O_RDWR`).
        public static let readWrite = OpenOptions(rawValue: O_RDWR)
        /// Create the file if it does not exist (`O_CREAT`).
        public static let create = OpenOptions(rawValue: O_CREAT)
        /// With ``create``: fail if the file exists (`O_EXCL`).
        public static let exclusive = OpenOptions(rawValue: O_EXCL)
        /// Truncate to zero length (`O_TRUNC`).
        public static let truncate = OpenOptions(rawValue: O_TRUNC)
        /// Bypass the page cache (`O_DIRECT`): transfers must be aligned.
        public static let direct = OpenOptions(rawValue: shoal_o_direct())
    }

    /// Opens `path` (`open(2)` with `O_CLOEXEC`) and returns the owned descriptor.
    ///
    /// When ``OpenOptions/direct`` is asked and the file system refuses it (`EINVAL`,
    /// as ramfs does), the error says so.
    public static func open(
        _ path: FilePath, options: OpenOptions, permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
    ) throws(SystemCallError) -> OwnedDescriptor {
        let flags = options.rawValue | O_CLOEXEC
        while true {
            let fd = path.withPlatformString { Glibc.open($0, flags, permissions.rawValue) }
            if fd >= 0 { return OwnedDescriptor(takingOwnershipOf: FileDescriptor(rawValue: fd)) }
            let code = Errno.current
            if code == .interrupted { continue }
            var detail: String?
            if code == .invalidArgument && options.contains(.direct) {
                detail = "this file system does not support O_DIRECT"
            }
            throw SystemCallError(call: "open", errno: code, path: path, detail: detail)
        }
    }

    /// The size of the open file in bytes (`fstat(2)`).
    public static func size(of fd: FileDescriptor) throws(SystemCallError) -> Int64 {
        var info = stat()
        let raw = fd.rawValue
        _ = try retryingInterrupts("fstat", detail: "descriptor \(raw)") { fstat(raw, &info) }
        return Int64(info.st_size)
    }

    /// The memory and file-offset alignment that `O_DIRECT` transfers on this file need.
    ///
    /// Uses `statx(STATX_DIOALIGN)` where the kernel and file system report it; else
    /// the file system's block size (`fstat` `st_blksize`); else 4096.
    public static func directIOAlignment(
        of fd: FileDescriptor
    ) throws(SystemCallError) -> (memory: Int, offset: Int) {
        var memory: UInt32 = 0
        var offset: UInt32 = 0
        let raw = fd.rawValue
        switch shoal_dio_alignment(raw, &memory, &offset) {
        case 0:
            return (Int(memory), Int(max(offset, 1)))
        case 1:
            break
        default:
            let code = Errno.current
            // A kernel without statx: use the block size.
            if code != .noFunction { throw SystemCallError(call: "statx", errno: code, detail: "descriptor \(raw)") }
        }
        var info = stat()
        _ = try retryingInterrupts("fstat", detail: "descriptor \(raw)") { fstat(raw, &info) }
        let block = info.st_blksize > 0 ? Int(info.st_blksize) : 4096
        return (block, block)
    }

    /// Sets the file's length (`ftruncate(2)`).
    public static func truncate(_ fd: FileDescriptor, to length: Int64) throws(SystemCallError) {
        let raw = fd.rawValue
        _ = try retryingInterrupts("ftruncate", detail: "descriptor \(raw) to \(length) bytes") {
            ftruncate(raw, off_t(length))
        }
    }

    /// Reserves disk space for `length` bytes at `offset` (`fallocate(2)`, mode 0):
    /// later writes there cannot fail for lack of space. Extends the file if needed.
    public static func allocate(
        _ fd: FileDescriptor, offset: Int64, length: Int64
    ) throws(SystemCallError) {
        let raw = fd.rawValue
        _ = try retryingInterrupts("fallocate", detail: "descriptor \(raw), \(length) bytes at \(offset)") {
            shoal_fallocate(raw, 0, offset, length)
        }
    }

    /// Flushes the file to stable storage, blocking (`fsync(2)`). Prefer
    /// `AIORequest.fsync(descriptor:userData:)` on a reactor.
    public static func sync(_ fd: FileDescriptor) throws(SystemCallError) {
        let raw = fd.rawValue
        _ = try retryingInterrupts("fsync", detail: "descriptor \(raw)") { Glibc.fsync(raw) }
    }

    /// A second descriptor for the same open file, close-on-exec (`fcntl(F_DUPFD_CLOEXEC)`).
    public static func duplicate(_ fd: FileDescriptor) throws(SystemCallError) -> OwnedDescriptor {
        let raw = fd.rawValue
        let copy = try retryingInterrupts("fcntl", detail: "F_DUPFD_CLOEXEC of descriptor \(raw)") {
            Glibc.fcntl(raw, F_DUPFD_CLOEXEC, 0)
        }
        return OwnedDescriptor(takingOwnershipOf: FileDescriptor(rawValue: copy))
    }

    /// Removes the name `path` (`unlink(2)`).
    public static func unlink(_ path: FilePath) throws(SystemCallError) {
        _ = try retryingInterrupts("unlink", path: path) { path.withPlatformString { Glibc.unlink($0) } }
    }

    /// The kind of file system holding `path` (`statfs(2)`): `"ext4"` (for any of
    /// ext2/3/4, which share a magic number), `"tmpfs"`, `"xfs"`, ..., or the magic in hex.
    public static func fileSystemType(of path: FilePath) throws(SystemCallError) -> String {
        var info = statfs()
        _ = try retryingInterrupts("statfs", path: path) { path.withPlatformString { statfs($0, &info) } }
        let names: [Int: String] = [
            0xEF53: "ext4", 0x0102_1994: "tmpfs", 0x5846_5342: "xfs", 0x9123_683E: "btrfs",
            0x794C_7630: "overlayfs", 0x9FA0: "proc", 0x8584_58F6: "ramfs", 0x6969: "nfs",
        ]
        return names[Int(info.f_type)] ?? "0x" + String(info.f_type, radix: 16)
    }
}
