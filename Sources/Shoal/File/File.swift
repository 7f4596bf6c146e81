import CShoal
import ShoalKernel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A file on a reactor, read and written with Linux AIO from the reactor thread:
/// `O_DIRECT` where the file system allows it, with buffers aligned for it.
///
/// Open one with ``open(_:_:options:permissions:directIO:on:)``. Reads and writes go to
/// the kernel with the rest of the reactor's tick in one `io_submit` and their
/// completions are reaped from the ring in user space; many may be in flight at once,
/// from any number of tasks. What can block in the kernel without an asynchronous
/// form (opening, `fstat`-free metadata, truncating, and all I/O of a file opened
/// without direct I/O, which goes through the page cache) runs on the reactor's
/// blocking-call thread instead (``Reactor/performBlocking(_:)``). The reactor thread
/// never blocks on a file.
///
/// Direct I/O transfers must be aligned: buffers to ``alignment``'s `memory`, offsets
/// and lengths to its `offset`. ``makeBuffer(capacity:)`` makes buffers that fit; a
/// misaligned request throws ``ReactorError/invalidArgument(_:)`` before the kernel
/// sees it. ``read(at:count:)`` reads any range, aligning for you.
///
/// Methods may be called from any task; they run on the reactor thread. Close the file
/// with ``close()``, which waits for its requests in flight; a file dropped without
/// `close()` closes its descriptor when the last reference goes.
public final class File: @unchecked Sendable {
    /// Whether to open with `O_DIRECT` (bypassing the page cache).
    public enum DirectIO: Sendable, Hashable, CustomStringConvertible {
        /// Direct I/O or an error: ``File/open(_:_:options:permissions:directIO:on:)``
        /// throws where the file system refuses `O_DIRECT` (ramfs, some FUSE and network
        /// file systems).
        case required
        /// Direct I/O where possible, else buffered I/O through the page cache; the file
        /// says which in ``File/isDirect``. The default.
        case preferred
        /// Buffered I/O through the page cache.
        case disabled

        /// A sentence a person can read.
        public var description: String {
            switch self {
            case .required: "required"
            case .preferred: "preferred"
            case .disabled: "disabled"
            }
        }
    }

    /// What direct I/O on a file must be aligned to.
    public struct Alignment: Sendable, Hashable, CustomStringConvertible {
        /// Buffer addresses must be multiples of this.
        public let memory: Int
        /// File offsets and transfer lengths must be multiples of this.
        public let offset: Int

        /// No alignment at all: buffered I/O.
        public static let none = Alignment(memory: 1, offset: 1)

        /// The alignment of memory and of offsets and lengths, in bytes.
        public init(memory: Int, offset: Int) {
            self.memory = memory
            self.offset = offset
        }

        /// `memory M, offset and length N`.
        public var description: String { "memory \(memory), offset and length \(offset)" }
    }

    /// The reactor the file's I/O runs on.
    public let reactor: Reactor
    /// The path the file was opened with.
    public let path: FilePath
    /// The open descriptor; do not close it: ``close()`` does.
    public let descriptor: FileDescriptor
    /// Whether the file was opened with `O_DIRECT`.
    public let isDirect: Bool
    /// The alignment direct I/O needs (`statx` `STATX_DIOALIGN` where the kernel and
    /// file system report it, else the file system's block size); ``Alignment/none``
    /// for buffered files.
    public let alignment: Alignment
    /// Why direct I/O is off when it was preferred, or `nil`.
    public let directIOUnavailableReason: String?
    /// What the file was opened for.
    public let mode: FileDescriptor.AccessMode

    /// Requests in flight, whether ``close()`` was called, and the task that waits in
    /// `close()` for the requests to end. Calls may come from any thread.
    struct Usage {
        var inFlight = 0
        var closed = false
        var closer: UnsafeContinuation<Void, Never>?
    }
    let usage = Mutex(Usage())

    init(
        reactor: Reactor, path: FilePath, descriptor: FileDescriptor, mode: FileDescriptor.AccessMode, isDirect: Bool,
        alignment: Alignment, directIOUnavailableReason: String?
    ) {
        self.reactor = reactor
        self.mode = mode
        self.path = path
        self.descriptor = descriptor
        self.isDirect = isDirect
        self.alignment = alignment
        self.directIOUnavailableReason = directIOUnavailableReason
    }

    deinit {
        if !usage.withLock({ $0.closed }) { _ = Glibc.close(descriptor.rawValue) }
    }

    /// Opens `path` on `reactor`.
    ///
    /// The `open(2)` runs on the reactor's blocking-call thread. Only regular files and
    /// block devices can be opened: a directory throws `EISDIR`, a FIFO, socket or
    /// character device `ESPIPE` (they have no offsets), without ever blocking on them.
    ///
    /// - Parameters:
    ///   - path: the file to open.
    ///   - mode: read, write, or both (swift-system's access modes).
    ///   - options: `.create`, `.truncate`, `.exclusiveCreate`, ... (swift-system's
    ///     open options; `O_CLOEXEC` is always added). Not `.append`: every read and
    ///     write of a `File` names its offset. As with `open(2)`, `.create` through a
    ///     symbolic link to nothing creates the link's target, and `.exclusiveCreate`
    ///     refuses any link (`EEXIST`).
    ///   - permissions: for a file created by the call.
    ///   - directIO: ``DirectIO/preferred`` by default.
    ///   - reactor: the reactor whose thread reads and writes the file.
    /// - Throws: `SystemCallError` naming `open` and the path (`ENOENT`, `EACCES`,
    ///   `EEXIST`, `EINVAL` with "this file system does not support O_DIRECT" when
    ///   direct I/O is required and refused, ...); ``ReactorError/invalidArgument(_:)``
    ///   for `.append`; ``ReactorError/stopped(_:)``.
    public static func open(
        _ path: FilePath,
        _ mode: FileDescriptor.AccessMode = .readOnly,
        options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead],
        directIO: DirectIO = .preferred,
        on reactor: Reactor
    ) async throws -> File {
        if options.contains(.append) {
            throw ReactorError.invalidArgument(
                "open \(path) with .append: a File reads and writes at offsets; use FileWriter to write at the end")
        }
        if reactor.currentPhase == .stopped { throw ReactorError.stopped("open \(path)") }
        let opened = try await reactor.performBlocking {
            try FileOpening.open(path, mode, options: options, permissions: permissions, directIO: directIO)
        }
        return File(
            reactor: reactor, path: path, descriptor: opened.descriptor, mode: mode, isDirect: opened.isDirect,
            alignment: opened.alignment, directIOUnavailableReason: opened.directIOUnavailableReason)
    }

    /// A zero-filled buffer of at least `capacity` bytes (rounded up to the offset
    /// alignment), aligned for this file.
    public func makeBuffer(capacity: Int) -> IOBuffer {
        IOBuffer(capacity: alignUp(max(capacity, 0)), alignment: max(alignment.memory, IOBuffer.defaultAlignment))
    }

    /// `value` rounded up to the offset alignment (clamped below `Int.max`).
    func alignUp(_ value: Int) -> Int {
        let unit = alignment.offset
        let (sum, overflow) = value.addingReportingOverflow(unit - 1)
        return overflow ? Int.max / unit * unit : sum / unit * unit
    }

    /// `value` rounded down to the offset alignment.
    func alignDown(_ value: Int64) -> Int64 {
        value / Int64(alignment.offset) * Int64(alignment.offset)
    }
}
