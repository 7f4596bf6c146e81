import CShoal
import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

extension File {
    /// Reads `count` bytes (default: the buffer's capacity) at file `offset` into
    /// `buffer`, and gives the buffer back with ``IOBuffer/count`` set to the bytes
    /// read: fewer at the end of the file, zero at or past it.
    ///
    /// On a direct file, `offset` and `count` must be multiples of
    /// ``alignment``'s `offset` and the buffer aligned to its `memory` (buffers from
    /// ``makeBuffer(capacity:)`` are); on a buffered file the read runs on the
    /// blocking-call thread.
    ///
    /// - Throws: ``ReactorError/invalidArgument(_:)`` for a misaligned or out-of-range
    ///   request, naming the file; `SystemCallError` (`read`); `CancellationError`;
    ///   ``ReactorError/stopped(_:)``. When it throws, the buffer is gone.
    public nonisolated(nonsending) func read(
        at offset: Int64, into buffer: consuming IOBuffer, count: Int? = nil
    ) async throws -> IOBuffer {
        let length = count ?? buffer.capacity
        try check("read", offset: offset, length: length, capacity: buffer.capacity, bufferAlignment: buffer.alignment)
        let memory = buffer.takeMemory()
        let read = try await transfer(.read, memory: memory, count: length, offset: offset)
        return IOBuffer(adopting: memory, count: read)
    }

    /// Reads `count` bytes at any `offset`, aligning the request for direct I/O, and
    /// returns a buffer holding exactly the bytes read (fewer at the end of the file).
    ///
    /// The count is cut to what the file holds past `offset` (its size now), so a large
    /// count allocates no more than the file can give.
    public nonisolated(nonsending) func read(at offset: Int64, count: Int) async throws -> IOBuffer {
        guard offset >= 0, count >= 0 else {
            throw ReactorError.invalidArgument("read of \(count) bytes at offset \(offset) of \(path)")
        }
        let size = try self.size()
        let count = Int(min(Int64(count), max(0, size - offset)))
        if count == 0 { return IOBuffer(capacity: 0) }
        let start = alignDown(offset)
        let lead = Int(offset - start)
        let span = alignUp(lead + count)
        var buffer = try await read(at: start, into: makeBuffer(capacity: span), count: span)
        let available = max(0, min(count, buffer.count - lead))
        if lead > 0 && available > 0 {
            buffer.withUnsafeMutableBytes { bytes in
                bytes.baseAddress!.copyMemory(from: bytes.baseAddress! + lead, byteCount: available)
            }
        }
        buffer.count = available
        return buffer
    }

    /// Writes the ``IOBuffer/count`` valid bytes of `buffer` at file `offset`, and gives
    /// the buffer back. Writes everything or throws.
    ///
    /// On a direct file, `offset` and the count must be multiples of ``alignment``'s
    /// `offset` and the buffer aligned to its `memory`: to write a tail that is not,
    /// pad it with zeros and ``truncate(to:)`` after (``FileWriter`` does this).
    ///
    /// - Throws: ``ReactorError/invalidArgument(_:)`` for a misaligned request;
    ///   `SystemCallError` (`write`: `ENOSPC`, `EFBIG`, `EIO`, ...);
    ///   `CancellationError`; ``ReactorError/stopped(_:)``. When it throws, the buffer
    ///   is gone.
    public nonisolated(nonsending) func write(_ buffer: consuming IOBuffer, at offset: Int64) async throws -> IOBuffer {
        let count = buffer.count
        try check("write", offset: offset, length: count, capacity: buffer.capacity, bufferAlignment: buffer.alignment)
        let memory = buffer.takeMemory()
        var written = 0
        while written < count {
            let taken = try await transfer(
                .write, memory: memory, count: count - written, offset: offset + Int64(written), skip: written)
            if taken == 0 {
                memory.deallocate()
                throw SystemCallError(
                    call: "write", errno: .ioError, path: path,
                    detail: "the kernel took 0 of \(count - written) bytes at offset \(offset + Int64(written))")
            }
            written += taken
        }
        return IOBuffer(adopting: memory, count: count)
    }

    /// Flushes the file's data and metadata to stable storage (`fsync`, through AIO;
    /// on the blocking-call thread where the file system has no asynchronous fsync).
    public nonisolated(nonsending) func sync() async throws {
        try await synchronize(dataOnly: false)
    }

    /// Flushes the file's data, and only the metadata needed to read it back
    /// (`fdatasync`, through AIO where the file system allows).
    public nonisolated(nonsending) func syncData() async throws {
        try await synchronize(dataOnly: true)
    }

    private nonisolated(nonsending) func synchronize(dataOnly: Bool) async throws {
        try checkOpen(dataOnly ? "fdatasync" : "fsync")
        do {
            try await tracked { try await reactor.synchronize(descriptor, dataOnly: dataOnly) }
        } catch let error as SystemCallError where error.errno == .invalidArgument {
            // No asynchronous fsync on this file system: the blocking call does it.
            let fd = descriptor
            let path = path
            try await tracked {
                try await reactor.performBlocking {
                    while (dataOnly ? fdatasync(fd.rawValue) : fsync(fd.rawValue)) != 0 {
                        if Errno.current != .interrupted {
                            throw SystemCallError(call: dataOnly ? "fdatasync" : "fsync", errno: .current, path: path)
                        }
                    }
                }
            }
        }
    }

    /// Direction of a transfer.
    enum Direction { case read, write }

    /// One read or write of `count` bytes at `offset`, from `skip` bytes into `memory`:
    /// AIO on a direct file, `pread`/`pwrite` on the blocking-call thread otherwise.
    /// `memory` comes back with a result; when this throws it is gone.
    private nonisolated(nonsending) func transfer(
        _ direction: Direction, memory: IOMemory, count: Int, offset: Int64, skip: Int = 0
    ) async throws -> Int {
        guard isDirect else {
            let fd = descriptor
            let path = path
            do {
                return try await tracked {
                    try await reactor.performBlocking {
                        try Self.positional(direction, fd, memory.base + skip, count, offset, path)
                    }
                }
            } catch {
                memory.deallocate()
                throw error
            }
        }
        let request: AIORequest =
            direction == .read
            ? .read(descriptor: descriptor, into: memory.base + skip, count: count, offset: offset, userData: 0)
            : .write(descriptor: descriptor, from: memory.base + skip, count: count, offset: offset, userData: 0)
        do {
            try beginRequest()
        } catch {
            memory.deallocate()
            throw error
        }
        do {
            // Counted until the kernel is done, not until the task resumes: a cancelled
            // task resumes at once, while the kernel may still use the file. Never more
            // than asked: the ring is process memory (see Reactor.read).
            return min(Int(try await reactor.perform(request, holding: memory, onRelease: endRequest)), count)
        } catch var error as SystemCallError {
            error = SystemCallError(call: error.call, errno: error.errno, path: path, detail: error.detail)
            throw error
        }
    }

    /// Writes `count` bytes of `memory` at `offset` of a direct file through the page
    /// cache: on the blocking-call thread, with `O_DIRECT` off for the call. For a tail
    /// that ends inside a block whose other bytes cannot be read (a write-only file); a
    /// direct request of this file submitted meanwhile goes through the page cache too,
    /// which is slower, never wrong. `memory` stays the caller's.
    nonisolated(nonsending) func writeThroughPageCache(_ memory: IOMemory, count: Int, at offset: Int64) async throws {
        try checkOpen("pwrite")
        try checkMode("write")
        let fd = descriptor
        let path = path
        try await tracked {
            try await reactor.performBlocking {
                let flags = fcntl(fd.rawValue, F_GETFL)
                guard flags >= 0, fcntl(fd.rawValue, F_SETFL, flags & ~shoal_o_direct()) == 0 else {
                    throw SystemCallError(call: "fcntl", errno: .current, path: path, detail: "turning O_DIRECT off")
                }
                defer { _ = fcntl(fd.rawValue, F_SETFL, flags) }
                var written = 0
                while written < count {
                    let taken = try Self.positional(
                        .write, fd, memory.base + written, count - written, offset + Int64(written), path)
                    if taken == 0 {
                        throw SystemCallError(
                            call: "pwrite", errno: .ioError, path: path,
                            detail: "the kernel took 0 of \(count - written) bytes at offset \(offset + Int64(written))")
                    }
                    written += taken
                }
            }
        }
    }

    /// `pread`/`pwrite` of a buffered file (blocking-call thread).
    static func positional(
        _ direction: Direction, _ fd: FileDescriptor, _ base: UnsafeMutableRawPointer, _ count: Int,
        _ offset: Int64, _ path: FilePath
    ) throws -> Int {
        while true {
            let result =
                direction == .read
                ? pread(fd.rawValue, base, count, off_t(offset)) : pwrite(fd.rawValue, base, count, off_t(offset))
            if result >= 0 { return result }
            if Errno.current == .interrupted { continue }
            throw SystemCallError(
                call: direction == .read ? "pread" : "pwrite", errno: .current, path: path,
                detail: "\(count) bytes at offset \(offset)")
        }
    }

    /// Refuses a read of a file opened write-only, or a write of one opened read-only.
    func checkMode(_ call: String) throws {
        if call == "write" && mode == .readOnly {
            throw ReactorError.invalidArgument("write to \(path), which was opened read-only")
        }
        if call == "read" && mode == .writeOnly {
            throw ReactorError.invalidArgument("read of \(path), which was opened write-only")
        }
    }

    /// Validates a transfer before the kernel sees it.
    private func check(_ call: String, offset: Int64, length: Int, capacity: Int, bufferAlignment: Int) throws {
        try checkOpen(call)
        try checkMode(call)
        guard offset >= 0, length >= 0, length <= capacity else {
            throw ReactorError.invalidArgument(
                "\(call) of \(length) bytes at offset \(offset) of \(path) with a buffer of \(capacity) bytes")
        }
        guard isDirect else { return }
        let unit = alignment.offset
        if offset % Int64(unit) != 0 || length % unit != 0 || bufferAlignment % alignment.memory != 0 {
            throw ReactorError.invalidArgument(
                """
                \(call) of \(length) bytes at offset \(offset) of \(path) is not aligned for direct I/O: \
                offsets and lengths must be multiples of \(unit) and buffers aligned to \(alignment.memory) \
                (this buffer: \(bufferAlignment)); use File.makeBuffer, or read(at:count:) for any range
                """)
        }
    }
}

extension File {
    /// Starts a read or write of `count` bytes at `offset` without suspending (reactor
    /// thread only, for streams that keep several in flight); `completion` runs on the
    /// reactor thread with the bytes transferred or the error. `memory` comes back with
    /// a success and is freed on failure. ``close()`` waits for it.
    func startTransfer(
        _ direction: Direction, memory: IOMemory, count: Int, offset: Int64,
        completion: @escaping (Result<Int, any Error>) -> Void
    ) {
        precondition(reactor.isOnReactorThread, "File streams must be used on the reactor thread")
        do {
            try beginRequest()
        } catch {
            memory.deallocate()
            completion(.failure(error))
            return
        }
        let path = path
        if isDirect {
            let request: AIORequest =
                direction == .read
                ? .read(descriptor: descriptor, into: memory.base, count: count, offset: offset, userData: 0)
                : .write(descriptor: descriptor, from: memory.base, count: count, offset: offset, userData: 0)
            reactor.submit(request, holding: memory, onRelease: endRequest) { outcome in
                completion(
                    outcome.map { min(Int($0), count) }.mapError { error in
                        guard let error = error as? SystemCallError else { return error }
                        return SystemCallError(call: error.call, errno: error.errno, path: path, detail: error.detail)
                    })
            }
        } else {
            let fd = descriptor
            do {
                // A call that outlives the reactor frees its memory and ends the request
                // on the blocking-call thread: close() must not wait for it for ever.
                try reactor.startBlocking(
                    { try Self.positional(direction, fd, memory.base, count, offset, path) },
                    afterStop: { [self] _ in
                        memory.deallocate()
                        endRequest()
                    },
                    completion: { [self] outcome in
                        if case .failure = outcome { memory.deallocate() }
                        endRequest()
                        completion(outcome)
                    }
                )
            } catch {
                memory.deallocate()
                endRequest()
                completion(.failure(error))
            }
        }
    }
}
