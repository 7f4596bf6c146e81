import CShoal
#if canImport(Glibc)
import Glibc
#endif

/// A Linux AIO request (`struct iocb`), as `io_submit(2)` takes it.
///
/// Build one with the static constructors (``read(descriptor:into:count:offset:userData:)``
/// and friends). The kernel copies the request at `io_submit`, but the memory it points
/// to (buffers, `iovec` arrays) must stay valid until the completion arrives. The
/// 64-bit ``userData`` comes back unchanged in the request's ``AIOCompletion``.
public typealias AIORequest = iocb

/// A Linux AIO completion (`struct io_event`), as the ring and `io_getevents` hold it.
public typealias AIOCompletion = io_event

// Requests and completions are plain data; the memory a request points to is the
// submitter's to keep valid, on whatever thread it submits from.
extension iocb: @retroactive @unchecked Sendable {}
extension io_event: @retroactive @unchecked Sendable {}

extension AIORequest {
    /// A read of `count` bytes at file `offset` into `buffer` (`IOCB_CMD_PREAD`).
    public static func read(
        descriptor: Int32, into buffer: UnsafeMutableRawPointer, count: Int, offset: Int64, userData: UInt64
    ) -> AIORequest {
        var request = AIORequest()
        io_prep_pread(&request, descriptor, buffer, count, offset)
        request.userData = userData
        return request
    }

    /// A write of `count` bytes from `buffer` at file `offset` (`IOCB_CMD_PWRITE`).
    public static func write(
        descriptor: Int32, from buffer: UnsafeRawPointer, count: Int, offset: Int64, userData: UInt64
    ) -> AIORequest {
        var request = AIORequest()
        io_prep_pwrite(&request, descriptor, UnsafeMutableRawPointer(mutating: buffer), count, offset)
        request.userData = userData
        return request
    }

    /// A vectored read at file `offset` into the `count` buffers of `vectors` (`IOCB_CMD_PREADV`).
    public static func readv(
        descriptor: Int32, vectors: UnsafePointer<iovec>, count: Int, offset: Int64, userData: UInt64
    ) -> AIORequest {
        var request = AIORequest()
        io_prep_preadv(&request, descriptor, vectors, Int32(count), offset)
        request.userData = userData
        return request
    }

    /// A vectored write at file `offset` from the `count` buffers of `vectors` (`IOCB_CMD_PWRITEV`).
    public static func writev(
        descriptor: Int32, vectors: UnsafePointer<iovec>, count: Int, offset: Int64, userData: UInt64
    ) -> AIORequest {
        var request = AIORequest()
        io_prep_pwritev(&request, descriptor, vectors, Int32(count), offset)
        request.userData = userData
        return request
    }

    /// Flushes data and metadata to stable storage (`IOCB_CMD_FSYNC`).
    public static func fsync(descriptor: Int32, userData: UInt64) -> AIORequest {
        var request = AIORequest()
        io_prep_fsync(&request, descriptor)
        request.userData = userData
        return request
    }

    /// Flushes data, and only the metadata needed to read it back (`IOCB_CMD_FDSYNC`).
    public static func fdatasync(descriptor: Int32, userData: UInt64) -> AIORequest {
        var request = AIORequest()
        io_prep_fdsync(&request, descriptor)
        request.userData = userData
        return request
    }

    /// A one-shot readiness wait (`IOCB_CMD_POLL`): completes once `descriptor` reports
    /// any of `events` (`POLLIN`, `POLLOUT`, ...); the result is the ready mask.
    public static func poll(descriptor: Int32, events: Int32, userData: UInt64) -> AIORequest {
        var request = AIORequest()
        io_prep_poll(&request, descriptor, events)
        request.userData = userData
        return request
    }

    /// The 64-bit value returned unchanged in this request's completion.
    public var userData: UInt64 {
        get { withUnsafePointer(to: self) { shoal_iocb_data($0) } }
        set { shoal_iocb_set_data(&self, newValue) }
    }

    /// Asks the kernel to add 1 to the eventfd `descriptor` when this request completes
    /// (`IOCB_FLAG_RESFD`).
    public mutating func signalOnCompletion(eventFD descriptor: Int32) {
        shoal_iocb_set_eventfd(&self, descriptor)
    }

    /// Whether this is a readiness poll (`IOCB_CMD_POLL`), the one kind Linux can cancel.
    public var isPoll: Bool { UInt32(aio_lio_opcode) == IO_CMD_POLL.rawValue }

    /// A short description for error messages: the operation, descriptor and size.
    var summary: String {
        let operation: String
        switch UInt32(aio_lio_opcode) {
        case IO_CMD_PREAD.rawValue: operation = "read"
        case IO_CMD_PWRITE.rawValue: operation = "write"
        case IO_CMD_PREADV.rawValue: operation = "readv"
        case IO_CMD_PWRITEV.rawValue: operation = "writev"
        case IO_CMD_FSYNC.rawValue: operation = "fsync"
        case IO_CMD_FDSYNC.rawValue: operation = "fdatasync"
        case IO_CMD_POLL.rawValue: return "poll of descriptor \(aio_fildes)"
        default: operation = "opcode \(aio_lio_opcode)"
        }
        return "\(operation) on descriptor \(aio_fildes), \(u.c.nbytes) at offset \(u.c.offset)"
    }
}

extension AIOCompletion {
    /// The ``AIORequest/userData`` of the request that completed.
    public var userData: UInt64 { withUnsafePointer(to: self) { shoal_event_data($0) } }

    /// The result: bytes transferred, the ready mask of a poll, or a negative `errno`.
    public var result: Int64 { withUnsafePointer(to: self) { shoal_event_res($0) } }

    /// The secondary result (`res2`), zero for all requests Shoal makes.
    public var result2: Int64 { withUnsafePointer(to: self) { shoal_event_res2($0) } }
}
