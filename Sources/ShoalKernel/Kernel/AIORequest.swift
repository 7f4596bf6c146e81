import CShoal
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A Linux AIO request (`struct iocb`), as `io_submit(2)` takes it.
///
/// Build one with the static constructors (`AIORequest.read(descriptor:into:count:offset:userData:)`
/// and friends). The kernel copies the request at `io_submit`, but the memory it points
/// to (buffers, `iovec` arrays) must stay valid until the completion arrives. The
/// 64-bit `userData` comes back unchanged in the request's ``AIOCompletion``.
public typealias AIORequest = iocb

/// A Linux AIO completion (`struct io_event`), as the ring and `io_getevents` hold it.
public typealias AIOCompletion = io_event

// Requests and completions are plain data; the memory a request points to is the
// submitter's to keep valid, on whatever thread it submits from. (The kernel's C types
// get no Sendable conformance of their own.)
// swift-format-ignore: AvoidRetroactiveConformances
extension iocb: @retroactive @unchecked Sendable {}
// swift-format-ignore: AvoidRetroactiveConformances
extension io_event: @retroactive @unchecked Sendable {}

extension AIORequest {
    /// A read of `count` bytes at file `offset` into `buffer` (`IOCB_CMD_PREAD`).
    public static func read(
        descriptor: FileDescriptor, into buffer: UnsafeMutableRawPointer, count: Int, offset: Int64, userData: UInt64
    ) -> AIORequest {
        var request = AIORequest()
        io_prep_pread(&request, descriptor.rawValue, buffer, count, offset)
        request.userData = userData
        return request
    }

    /// A write of `count` bytes from `buffer` at file `offset` (`IOCB_CMD_PWRITE`).
    public static func write(
        descriptor: FileDescriptor, from buffer: UnsafeRawPointer, count: Int, offset: Int64, userData: UInt64
    ) -> AIORequest {
        var request = AIORequest()
        io_prep_pwrite(&request, descriptor.rawValue, UnsafeMutableRawPointer(mutating: buffer), count, offset)
        request.userData = userData
        return request
    }

    /// A vectored read at file `offset` into the `count` buffers of `vectors` (`IOCB_CMD_PREADV`).
    public static func readv(
        descriptor: FileDescriptor, vectors: UnsafePointer<iovec>, count: Int, offset: Int64, userData: UInt64
    ) -> AIORequest {
        var request = AIORequest()
        io_prep_preadv(&request, descriptor.rawValue, vectors, Int32(count), offset)
        request.userData = userData
        return request
    }

    /// A vectored write at file `offset` from the `count` buffers of `vectors` (`IOCB_CMD_PWRITEV`).
    public static func writev(
        descriptor: FileDescriptor, vectors: UnsafePointer<iovec>, count: Int, offset: Int64, userData: UInt64
    ) -> AIORequest {
        var request = AIORequest()
        io_prep_pwritev(&request, descriptor.rawValue, vectors, Int32(count), offset)
        request.userData = userData
        return request
    }

    /// Flushes data and metadata to stable storage (`IOCB_CMD_FSYNC`).
    public static func fsync(descriptor: FileDescriptor, userData: UInt64) -> AIORequest {
        var request = AIORequest()
        io_prep_fsync(&request, descriptor.rawValue)
        request.userData = userData
        return request
    }

    /// Flushes data, and only the metadata needed to read it back (`IOCB_CMD_FDSYNC`).
    public static func fdatasync(descriptor: FileDescriptor, userData: UInt64) -> AIORequest {
        var request = AIORequest()
        io_prep_fdsync(&request, descriptor.rawValue)
        request.userData = userData
        return request
    }

    /// A one-shot readiness wait (`IOCB_CMD_POLL`): completes once `descriptor` reports
    /// any of `events` (`POLLIN`, `POLLOUT`, ...); the result is the ready mask.
    public static func poll(descriptor: FileDescriptor, events: Int32, userData: UInt64) -> AIORequest {
        var request = AIORequest()
        io_prep_poll(&request, descriptor.rawValue, events)
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
    public mutating func signalOnCompletion(eventFD descriptor: FileDescriptor) {
        shoal_iocb_set_eventfd(&self, descriptor.rawValue)
    }

    /// Whether this is a readiness poll (`IOCB_CMD_POLL`), the one kind Linux can cancel.
    public var isPoll: Bool { UInt32(aio_lio_opcode) == IO_CMD_POLL.rawValue }

    /// A short description for error messages: the operation, descriptor, size and offset.
    public var summary: String {
        if isPoll { return "poll of descriptor \(aio_fildes)" }
        if UInt32(aio_lio_opcode) == IO_CMD_FSYNC.rawValue || UInt32(aio_lio_opcode) == IO_CMD_FDSYNC.rawValue {
            return "\(operationName) of descriptor \(aio_fildes)"
        }
        return "\(operationName) of \(u.c.nbytes) bytes at offset \(u.c.offset), descriptor \(aio_fildes)"
    }
}

extension AIOCompletion {
    /// The `userData` of the request that completed.
    public var userData: UInt64 { withUnsafePointer(to: self) { shoal_event_data($0) } }

    /// The result: bytes transferred, the ready mask of a poll, or a negative `errno`.
    public var result: Int64 { withUnsafePointer(to: self) { shoal_event_res($0) } }

    /// The secondary result (`res2`), zero for all requests Shoal makes.
    public var result2: Int64 { withUnsafePointer(to: self) { shoal_event_res2($0) } }
}

extension AIORequest {
    /// The operation's name for messages: `"read"`, `"write"`, `"fsync"`, `"poll"`, ...
    public var operationName: String {
        switch UInt32(aio_lio_opcode) {
        case IO_CMD_PREAD.rawValue: "read"
        case IO_CMD_PWRITE.rawValue: "write"
        case IO_CMD_PREADV.rawValue: "readv"
        case IO_CMD_PWRITEV.rawValue: "writev"
        case IO_CMD_FSYNC.rawValue: "fsync"
        case IO_CMD_FDSYNC.rawValue: "fdatasync"
        case IO_CMD_POLL.rawValue: "poll"
        default: "AIO opcode \(aio_lio_opcode)"
        }
    }

    /// The descriptor the request works on.
    public var descriptor: FileDescriptor { FileDescriptor(rawValue: aio_fildes) }
}
