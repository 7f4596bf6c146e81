import ShoalKernel

extension Reactor {
    /// Reads from `descriptor` at file `offset` into `buffer`, through Linux AIO, and
    /// gives the buffer back with ``IOBuffer/count`` set to the bytes read.
    ///
    /// Reads `count` bytes (default: the buffer's capacity); fewer at the end of the
    /// file, and zero at or past it. With `O_DIRECT` the kernel requires the buffer's
    /// address, `offset` and `count` to be aligned for the file (4096 is always enough).
    ///
    /// - Throws: `SystemCallError`: `call` `"io_submit"` when the kernel refuses the
    ///   request (a bad descriptor, one not open for reading), `"read"` when it fails it
    ///   (`EINVAL` for a misaligned `O_DIRECT` read, `EIO`);
    ///   ``ReactorError/invalidArgument(_:)`` for a negative offset or a count outside
    ///   `0...buffer.capacity`; `CancellationError`; ``ReactorError/stopped(_:)``.
    ///   When it throws, the buffer is gone (freed once the kernel is done with it).
    public nonisolated(nonsending) func read(
        from descriptor: FileDescriptor, at offset: Int64, into buffer: consuming IOBuffer, count: Int? = nil
    ) async throws -> IOBuffer {
        let length = count ?? buffer.capacity
        guard offset >= 0 else { throw ReactorError.invalidArgument("read at negative offset \(offset)") }
        guard length >= 0, length <= buffer.capacity else {
            throw ReactorError.invalidArgument(
                "read of \(length) bytes does not fit a buffer of \(buffer.capacity) bytes")
        }
        let memory = buffer.takeMemory()
        let request = AIORequest.read(
            descriptor: descriptor, into: memory.base, count: length, offset: offset, userData: 0)
        let read = try await perform(request, holding: memory)
        // The kernel never returns more than asked; a completion that says so was not
        // written by it (the ring is process memory), and must not size the buffer.
        return IOBuffer(adopting: memory, count: min(Int(read), length))
    }

    /// Writes the ``IOBuffer/count`` valid bytes of `buffer` to `descriptor` at file
    /// `offset`, through Linux AIO, and gives the buffer back for reuse.
    ///
    /// Writes everything or throws: a short write (the kernel took part of the data,
    /// as when the disk fills) is continued from where it stopped, and the next write
    /// reports why. With `O_DIRECT` the buffer's address, `offset` and count must be
    /// aligned for the file.
    ///
    /// - Throws: `SystemCallError`: `call` `"io_submit"` when the kernel refuses the
    ///   request (a bad descriptor, one not open for writing), `"write"` when it fails
    ///   it (`ENOSPC`, `EFBIG`, `EINVAL` for a misaligned `O_DIRECT` write);
    ///   ``ReactorError/invalidArgument(_:)`` for a negative offset; `CancellationError`;
    ///   ``ReactorError/stopped(_:)``. When it throws, the buffer is gone.
    public nonisolated(nonsending) func write(
        _ buffer: consuming IOBuffer, to descriptor: FileDescriptor, at offset: Int64
    ) async throws -> IOBuffer {
        guard offset >= 0 else {
            throw ReactorError.invalidArgument("write at negative offset \(offset)")
        }
        let count = buffer.count
        let memory = buffer.takeMemory()
        var written = 0
        while written < count {
            let request = AIORequest.write(
                descriptor: descriptor, from: memory.base + written, count: count - written,
                offset: offset + Int64(written), userData: 0)
            let taken = Int(try await perform(request, holding: memory))
            if taken == 0 {
                memory.deallocate()
                throw SystemCallError(
                    call: "write", errno: .ioError,
                    detail: "the kernel took 0 of \(count - written) bytes at offset \(offset + Int64(written)), "
                        + "descriptor \(descriptor.rawValue)")
            }
            written += taken
        }
        return IOBuffer(adopting: memory, count: count)
    }

    /// Flushes `descriptor`'s data, and unless `dataOnly` its metadata, to stable
    /// storage, through Linux AIO (`IOCB_CMD_FSYNC`, or `IOCB_CMD_FDSYNC` for `dataOnly`).
    ///
    /// - Throws: `SystemCallError` (`call` `"fsync"` or `"fdatasync"`; `EINVAL` where
    ///   the file system has no asynchronous fsync); `CancellationError`;
    ///   ``ReactorError/stopped(_:)``.
    public nonisolated(nonsending) func synchronize(_ descriptor: FileDescriptor, dataOnly: Bool = false) async throws {
        let request: AIORequest =
            dataOnly ? .fdatasync(descriptor: descriptor, userData: 0) : .fsync(descriptor: descriptor, userData: 0)
        _ = try await perform(request)
    }
}
