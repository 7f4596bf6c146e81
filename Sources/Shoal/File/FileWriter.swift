import DequeModule

/// Writes a file from an offset onwards, in chunks, with several writes in flight
/// behind the caller (write-behind), in bounded memory.
///
/// ```swift
/// let writer = FileWriter(file)
/// try await writer.write(bytes)            // copied into a chunk
/// try await writer.write(buffer)           // handed over whole when it is aligned
/// let length = try await writer.finish()   // the tail, the true length, fsync
/// ```
///
/// Bytes are gathered into chunks of `chunkSize`; a full chunk goes to the kernel at
/// once, and a call waits only when `writeBehind` chunks are already in flight. On a
/// direct file the last chunk is padded with zeros to the alignment and the file is
/// then truncated to the bytes written. The first failed write is reported by the
/// next call and by ``finish(sync:)``. A writer lives on its reactor's thread: call it
/// from tasks on the reactor.
///
/// End every writer with ``finish(sync:)``, or with ``discard()`` on an error path
/// (the copy is abandoned, the task was interrupted): a writer dropped with bytes
/// accepted and neither called logs a warning, as its last bytes may be unwritten.
///
/// A direct write that grows the file completes inside `io_submit` on ext4 and XFS (the
/// file system updates the size synchronously), which would block the reactor thread
/// for the whole write. So the writer reserves space ahead of its writes with
/// `fallocate` (on the blocking-call thread), in steps that double from 8 MiB to
/// 256 MiB, or all at once when the caller gives `expectedSize`; its writes then land
/// inside the file. ``finish(sync:)`` cuts the file back to the bytes written. Where
/// the file system has no `fallocate`, writes go ahead without it.
public final class FileWriter: @unchecked Sendable {
    /// The file written.
    public let file: File
    /// Bytes per write (a multiple of the file's offset alignment).
    public let chunkSize: Int
    /// Writes kept in flight at most.
    public let writeBehind: Int
    /// Bytes accepted so far (written, in flight, or gathered in the current chunk).
    public private(set) var bytesWritten: Int64 = 0

    private let start: Int64
    /// The file offset of the next chunk to send (aligned).
    private var nextOffset: Int64
    /// Bytes gathered for the next chunk.
    private var staging: IOBuffer?
    private var inFlight = 0
    private var waiter: UnsafeContinuation<Void, Never>?
    private var failure: (any Error)?
    /// ``finish(sync:)`` or ``discard()`` was called.
    private var finished = false
    private var discarded = false
    /// Where finished writes put their buffers, and new chunks come from.
    public let pool: IOBufferPool
    /// The file offset up to which space is reserved (the file's size, at least).
    private var reservedEnd: Int64
    private var reserveStep: Int64 = 8 << 20
    private let expectedSize: Int64?
    private var reserving: Bool
    /// The file's size when the writer was made: finishing never makes it shorter.
    private let originalSize: Int64

    /// A writer of `file` from offset `start` (which must be aligned on a direct file).
    ///
    /// - Parameters:
    ///   - file: the file to write (it stays open; close it after the writer).
    ///   - start: the offset of the first byte written; default 0.
    ///   - chunkSize: bytes per write, rounded up to the file's alignment; default 128 KiB.
    ///   - writeBehind: writes in flight at once, at least 1; default 4.
    ///   - expectedSize: the bytes the caller means to write, if known: space for them
    ///     is reserved with the first write (a full disk shows at once).
    ///   - pool: where finished writes return their buffers (a ``FileReader``'s pool,
    ///     when the writer consumes its chunks: the copy then allocates nothing after
    ///     its first chunks). Used if its buffers are `chunkSize` bytes with the file's
    ///     alignment.
    public init(
        _ file: File, at start: Int64 = 0, chunkSize: Int = 128 << 10, writeBehind: Int = 4,
        expectedSize: Int64? = nil, pool: IOBufferPool? = nil
    ) {
        self.file = file
        self.chunkSize = file.alignUp(max(chunkSize, 1))
        // A buffered file's writes run one at a time on the blocking-call thread: more
        // than two in flight would only queue there.
        self.writeBehind = file.isDirect ? max(writeBehind, 1) : min(max(writeBehind, 1), 2)
        self.start = start
        self.nextOffset = start
        self.expectedSize = expectedSize
        // A block device has the size it has: nothing to reserve (fallocate past its end
        // fails) or cut back.
        self.reserving = file.isDirect && (try? file.status())?.type != .blockSpecial
        self.originalSize = (try? file.size()) ?? 0
        self.reservedEnd = max(originalSize, start)
        let alignment = max(file.alignment.memory, IOBuffer.defaultAlignment)
        if let pool, pool.capacity == self.chunkSize, pool.alignment == alignment {
            self.pool = pool
        } else {
            self.pool = IOBufferPool(capacity: self.chunkSize, alignment: alignment, limit: self.writeBehind + 1)
        }
    }

    /// Appends a copy of `bytes`.
    ///
    /// - Throws: the first failed write's error; ``ReactorError/invalidArgument(_:)``
    ///   after ``finish(sync:)``; `CancellationError` while it waits for room.
    public func write(_ bytes: some Collection<UInt8>) async throws {
        try checkWritable()
        var remaining = bytes[...]
        while !remaining.isEmpty {
            var chunk: IOBuffer
            if let kept = staging.take() { chunk = kept } else { chunk = pool.take() }
            let room = chunkSize - chunk.count
            let part = remaining.prefix(room)
            chunk.append(contentsOf: part)
            remaining = remaining.dropFirst(part.count)
            bytesWritten += Int64(part.count)
            if chunk.count == chunkSize {
                try await send(chunk)
            } else {
                staging = .some(chunk)
            }
        }
    }

    /// Appends the ``IOBuffer/count`` valid bytes of `buffer`. The buffer is sent as it
    /// is when nothing is gathered and its count is a multiple of the file's alignment
    /// (no copy: a reader's chunks pass straight through); otherwise its bytes are
    /// copied into chunks and it is recycled.
    public func write(_ buffer: consuming IOBuffer) async throws {
        try checkWritable()
        let count = buffer.count
        if count == 0 { return }
        let aligned = buffer.alignment % max(file.alignment.memory, 1) == 0 && count % file.alignment.offset == 0
        if staging == nil && aligned {
            bytesWritten += Int64(count)
            try await send(buffer)
            return
        }
        let bytes = buffer.withUnsafeBytes { Array($0) }
        pool.give(buffer)
        try await write(bytes)
    }

    /// Sends what is gathered, waits for every write, gives back the space reserved
    /// past the bytes written, and (if `sync`) flushes the file to stable storage.
    /// Returns the file offset just past the bytes written. Later writes throw.
    ///
    /// The file ends at the last byte written, or where it ended before if that is
    /// further: bytes of an existing file past the written range are kept (on a direct
    /// file the last, partial block is read and written back whole; on a write-only
    /// direct file, which cannot be read, the bytes of that block are written through
    /// the page cache instead, after the writes before them).
    ///
    /// - Throws: the first failed write's error, or that of the truncate or fsync. After
    ///   a failure the reserved space is given back too, as far as it can be.
    @discardableResult
    public func finish(sync: Bool = true) async throws -> Int64 {
        try checkWritable()
        finished = true
        let end = start + bytesWritten
        do {
            if var chunk = staging.take() {
                let valid = chunk.count
                let length = file.alignUp(valid)
                // Bytes of the file after the tail, in the tail's last block: they must stay.
                let kept = Int(max(0, min(Int64(length), originalSize - nextOffset) - Int64(valid)))
                if kept > 0 && file.mode == .writeOnly {
                    try await writeTailThroughPageCache(chunk)
                } else {
                    if length != valid {
                        try await fillTail(&chunk, from: valid, to: length, kept: kept, at: nextOffset)
                        chunk.count = length
                    }
                    try await send(chunk)
                }
            }
            while inFlight > 0 { await waitForCompletion() }
            if let failure { throw failure }
            try await trim(to: max(end, originalSize))
            if sync { try await file.sync() }
            return end
        } catch {
            while inFlight > 0 { await waitForCompletion() }
            try? await trim(to: max(end, originalSize))
            throw error
        }
    }

    /// Stops the writer without finishing it, for an error path: waits for the writes in
    /// flight (the kernel may still read their buffers), drops the bytes gathered and not
    /// sent, and leaves the file as those writes left it, with any space reserved past
    /// them (remove or truncate the file). Later calls throw; discarding again, or after
    /// ``finish(sync:)``, does nothing. After the reactor stopped, or off its thread, it
    /// only marks the writer done.
    public func discard() async {
        if finished { return }
        finished = true
        discarded = true
        if let chunk = staging.take() { pool.give(chunk) }
        guard file.reactor.isOnReactorThread, file.reactor.currentPhase != .stopped else { return }
        while inFlight > 0 { await waitForCompletion() }
    }

    /// Fills `chunk` from `valid` to `length` for a write at `offset`: with the `kept`
    /// bytes the file already has there, then zeros past its end.
    private func fillTail(
        _ chunk: inout IOBuffer, from valid: Int, to length: Int, kept: Int, at offset: Int64
    ) async throws {
        if kept > 0 {
            let existing = try await file.read(at: offset + Int64(valid), count: kept)
            chunk.withUnsafeMutableBytes { bytes in
                existing.withUnsafeBytes { old in
                    (bytes.baseAddress! + valid).copyMemory(from: old.baseAddress!, byteCount: old.count)
                }
            }
        }
        _ = chunk.withUnsafeMutableBytes { bytes in
            (bytes.baseAddress! + valid + kept).initializeMemory(as: UInt8.self, repeating: 0, count: length - valid - kept)
        }
    }

    /// Writes the tail `chunk` of a write-only direct file whose old bytes fill the rest of
    /// its last block: they cannot be read to pad the block, so the tail's own bytes go
    /// through the page cache, once the writes before them are done (they are not
    /// ordered with a write in flight).
    private func writeTailThroughPageCache(_ chunk: consuming IOBuffer) async throws {
        while inFlight > 0 { await waitForCompletion() }
        if let failure {
            pool.give(chunk)
            throw failure
        }
        let count = chunk.count
        let memory = chunk.takeMemory()
        do {
            try await file.writeThroughPageCache(memory, count: count, at: nextOffset)
        } catch {
            memory.deallocate()
            throw error
        }
        pool.give(IOBuffer(adopting: memory, count: 0))
    }

    /// Cuts the file to `size` if it is longer (padding or reserved space past it).
    private func trim(to size: Int64) async throws {
        if try file.size() > size { try await file.truncate(to: size) }
    }

    /// Sends `chunk` at the next offset, after waiting for room. If it cannot (the task
    /// was cancelled, no space could be reserved), the writer has failed: its bytes were
    /// counted, and a later write must not land after a hole.
    private func send(_ chunk: consuming IOBuffer) async throws {
        do {
            try await sendOrThrow(chunk)
        } catch {
            if failure == nil { failure = error }
            throw error
        }
    }

    private func sendOrThrow(_ chunk: consuming IOBuffer) async throws {
        while inFlight >= writeBehind {
            try Task.checkCancellation()
            await waitForCompletion()
        }
        if let failure {
            pool.give(chunk)
            throw failure
        }
        let count = chunk.count
        let offset = nextOffset
        if reserving && offset + Int64(count) > reservedEnd {
            do {
                try await reserve(through: offset + Int64(count))
            } catch {
                pool.give(chunk)
                throw error
            }
        }
        nextOffset += Int64(count)
        inFlight += 1
        let memory = chunk.takeMemory()
        file.startTransfer(.write, memory: memory, count: count, offset: offset) { [self] outcome in
            inFlight -= 1
            switch outcome {
            case .success(let written) where written == count:
                pool.give(IOBuffer(adopting: memory, count: 0))
            case .success(let written):
                // A short write: the rest did not fit (the disk is full, say).
                pool.give(IOBuffer(adopting: memory, count: 0))
                if failure == nil {
                    failure = SystemCallError(
                        call: "write", errno: .noSpace, path: file.path,
                        detail: "the kernel wrote \(written) of \(count) bytes at offset \(offset)")
                }
            case .failure(let error):
                if failure == nil { failure = error }
            }
            let waiting = waiter
            waiter = nil
            waiting?.resume()
        }
    }

    /// Reserves space so that the file reaches at least `end` (see the type's notes).
    /// Only `end` is needed: a larger, speculative step that does not fit is cut back.
    private func reserve(through end: Int64) async throws {
        var target: Int64
        if let expectedSize {
            target = max(end, start + Int64(file.alignUp(Int(clamping: expectedSize))))
        } else {
            target = max(end, reservedEnd + reserveStep)
        }
        do {
            do {
                try await file.allocate(offset: reservedEnd, length: target - reservedEnd)
            } catch let error as SystemCallError where error.errno == .noSpace && target > end {
                target = end
                try await file.allocate(offset: reservedEnd, length: target - reservedEnd)
            }
            reservedEnd = target
            reserveStep = min(reserveStep * 2, 256 << 20)
        } catch let error as SystemCallError where error.errno == .notSupported {
            reserving = false  // no fallocate here: writes go ahead without it
        }
    }

    private func waitForCompletion() async {
        await withUnsafeContinuation { waiter = $0 }
    }

    private func checkWritable() throws {
        if file.reactor.currentPhase == .stopped { throw ReactorError.stopped("FileWriter of \(file.path)") }
        guard file.reactor.isOnReactorThread else {
            throw ReactorError.invalidArgument(
                "FileWriter of \(file.path) used off its reactor's thread: use it from a task on the reactor")
        }
        if let failure { throw failure }
        if finished {
            throw ReactorError.invalidArgument("FileWriter of \(file.path) was \(discarded ? "discarded" : "finished")")
        }
        if file.isDirect && start % Int64(file.alignment.offset) != 0 {
            throw ReactorError.invalidArgument(
                "FileWriter of \(file.path) starts at offset \(start), not a multiple of \(file.alignment.offset) "
                    + "as direct I/O needs")
        }
        try file.checkMode("write")
    }

    deinit {
        if !finished && failure == nil && (bytesWritten > 0 || reservedEnd > originalSize) {
            file.reactor.logger.warning(
                "FileWriter dropped without finish(): its last bytes may be unwritten and reserved space kept",
                metadata: ["path": "\(file.path)", "bytesAccepted": "\(bytesWritten)"])
        }
    }
}
