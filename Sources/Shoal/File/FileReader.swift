import DequeModule

/// Reads a file from start to end in chunks, with several reads in flight ahead of
/// the one it returns (read-ahead), in bounded memory.
///
/// ```swift
/// let reader = FileReader(file, chunkSize: 128 << 10, readAhead: 4)
/// while let chunk = try await reader.next() {
///     consume(chunk)          // chunk.count bytes, in file order
///     reader.recycle(chunk)   // optional: reuse its memory for a later read
/// }
/// ```
///
/// At most `readAhead` reads are in flight, and at most twice that many chunks are in
/// flight or read and not yet returned (reads can complete out of order: a slow one at
/// the head must not stop the others), so the reader holds at most
/// `2 × readAhead × chunkSize` bytes besides the chunks its caller keeps.
/// A short read ends the stream: the file ended (or shrank) there. A reader lives on
/// its reactor's thread: call it from tasks on the reactor.
public final class FileReader: @unchecked Sendable {
    /// The file read.
    public let file: File
    /// Bytes asked of each read (a multiple of the file's offset alignment).
    public let chunkSize: Int
    /// Reads kept in flight ahead of the caller.
    public let readAhead: Int
    /// The file offset of the next chunk ``next()`` returns.
    public private(set) var position: Int64

    private final class Chunk {
        enum State {
            case pending
            case done(IOMemory, Int)
            case failed(any Error)
        }
        let offset: Int64
        var state = State.pending
        init(offset: Int64) { self.offset = offset }
    }

    private let end: Int64
    private var nextOffset: Int64
    /// Bytes of the first chunk before `start` (direct I/O reads from an aligned offset).
    private var lead: Int
    /// Reads started and not completed.
    private var pending = 0
    private var chunks = Deque<Chunk>()
    private var waiter: UnsafeContinuation<Void, Never>?
    /// ``close()`` waiting for the reads in flight.
    private var closer: UnsafeContinuation<Void, Never>?
    /// A short or failed read was seen: no more reads are started.
    private var ended = false
    /// Where a short read ended the file: chunks at or past it are dropped.
    private var shortEnd: Int64?
    /// ``next()`` returned `nil`, or ``close()`` was called: it returns `nil` from now on.
    private var exhausted = false
    private var closed = false
    /// Where the reader takes the memory of its reads, and ``recycle(_:)`` puts it back.
    /// Hand it to a ``FileWriter`` that consumes the chunks, so they come back here.
    public let pool: IOBufferPool

    /// A reader of `file` from offset `start` up to `end` (default: the end of the file
    /// as it is now; bytes appended later are not read).
    ///
    /// - Parameters:
    ///   - file: the file to read (it stays open; close it after the reader).
    ///   - start: the first offset read (aligned on a direct file); default 0.
    ///   - end: the offset after the last byte read; default the file's size now.
    ///   - chunkSize: bytes per read, rounded up to the file's alignment, and down to what
    ///     the range needs; default 128 KiB.
    ///   - readAhead: reads in flight at once, at least 1; default 4.
    ///   - pool: buffers to read into (used if they are `chunkSize` bytes with the
    ///     file's alignment; otherwise the reader makes its own).
    public init(
        _ file: File, from start: Int64 = 0, to end: Int64? = nil, chunkSize: Int = 128 << 10, readAhead: Int = 4,
        pool: IOBufferPool? = nil
    ) {
        self.file = file
        let start = max(start, 0)
        let end = max(end ?? ((try? file.size()) ?? 0), start)
        let first = file.alignDown(start)
        // A range smaller than a chunk needs no chunk larger than itself.
        let span = file.alignUp(Int(clamping: end - first))
        self.chunkSize = max(min(file.alignUp(max(chunkSize, 1)), span), file.alignment.offset)
        // A buffered file's reads run one at a time on the blocking-call thread: more than
        // two in flight would only queue there.
        self.readAhead = file.isDirect ? max(readAhead, 1) : min(max(readAhead, 1), 2)
        self.position = start
        self.nextOffset = first
        self.lead = Int(start - first)
        self.end = end
        let alignment = max(file.alignment.memory, IOBuffer.defaultAlignment)
        if let pool, pool.capacity == self.chunkSize, pool.alignment == alignment {
            self.pool = pool
        } else {
            self.pool = IOBufferPool(capacity: self.chunkSize, alignment: alignment, limit: 2 * self.readAhead)
        }
    }

    deinit {
        for chunk in chunks {
            if case .done(let memory, _) = chunk.state { memory.deallocate() }
        }
    }

    /// The next chunk in file order, or `nil` at the end.
    ///
    /// - Throws: the error of the read that failed (`SystemCallError`), and the same
    ///   error again on later calls; `CancellationError` when the task is cancelled while
    ///   it waits (the reads go on; call ``next()`` again, or ``close()``);
    ///   ``ReactorError/invalidArgument(_:)`` when called off the reactor's thread or by
    ///   two tasks at once; ``ReactorError/stopped(_:)`` after the reactor stopped.
    public func next() async throws -> IOBuffer? {
        try checkThread("next()")
        if closed || exhausted { return nil }
        fill()
        while let head = chunks.first, case .pending = head.state {
            try Task.checkCancellation()
            if waiter != nil {
                throw ReactorError.invalidArgument("FileReader of \(file.path): next() called by two tasks at once")
            }
            await withTaskCancellationHandler {
                await withUnsafeContinuation { waiter = $0 }
            } onCancel: {
                file.reactor.execute { [self] in
                    let waiting = waiter
                    waiter = nil
                    waiting?.resume()
                }
            }
        }
        if closed { return nil }
        guard let head = chunks.first else {
            exhausted = true
            return nil
        }
        // A short read before this chunk ended the file: nothing at or past it counts.
        if let shortEnd, head.offset >= shortEnd {
            exhausted = true
            finishEarly()
            return nil
        }
        switch head.state {
        case .pending:
            return nil  // not reached: the loop above waits until the head is not pending
        case .failed(let error):
            ended = true
            throw error
        case .done(let memory, var count):
            chunks.removeFirst()
            // The first chunk of a direct file starts at an aligned offset: drop the bytes
            // before `start`, as a buffered file's reader would never have read them.
            let skip = min(lead, count)
            lead = 0
            if skip > 0 {
                memory.base.copyMemory(from: memory.base + skip, byteCount: count - skip)
                count -= skip
            }
            if count == 0 {
                memory.deallocate()
                exhausted = true
                finishEarly()
                return nil
            }
            position += Int64(count)
            fill()
            return IOBuffer(adopting: memory, count: count)
        }
    }

    /// Hands back a chunk ``next()`` returned, for a later read to reuse its memory.
    public func recycle(_ buffer: consuming IOBuffer) {
        pool.give(buffer)
    }

    /// Stops reading: waits for the reads in flight (the kernel may still write into
    /// their buffers) and frees them. ``next()`` returns `nil` afterwards.
    public func close() async {
        guard file.reactor.isOnReactorThread, !closed else { return }
        closed = true
        ended = true
        // A task waiting in next() gets nil.
        let waiting = waiter
        waiter = nil
        waiting?.resume()
        while pending > 0 {
            await withUnsafeContinuation { closer = $0 }
        }
        for chunk in chunks {
            if case .done(let memory, _) = chunk.state { memory.deallocate() }
        }
        chunks.removeAll()
    }

    /// Throws unless called on the reactor thread of a running reactor.
    private func checkThread(_ call: String) throws {
        if file.reactor.currentPhase == .stopped { throw ReactorError.stopped("FileReader.\(call) of \(file.path)") }
        guard file.reactor.isOnReactorThread else {
            throw ReactorError.invalidArgument(
                "FileReader.\(call) of \(file.path) called off its reactor's thread: use it from a task on the reactor")
        }
    }

    /// Starts reads until `readAhead` are in flight, or twice that wait to be returned.
    private func fill() {
        while !ended && pending < readAhead && chunks.count < 2 * readAhead {
            if nextOffset >= end {
                ended = true
                return
            }
            let length = min(chunkSize, file.alignUp(Int(clamping: end - nextOffset)))
            let chunk = Chunk(offset: nextOffset)
            chunks.append(chunk)
            nextOffset += Int64(length)
            let memory = pool.take().takeMemory()
            let limit = end
            pending += 1
            file.startTransfer(.read, memory: memory, count: length, offset: chunk.offset) { [self] outcome in
                pending -= 1
                switch outcome {
                case .success(var count):
                    count = max(0, min(count, Int(clamping: limit - chunk.offset)))
                    chunk.state = .done(memory, count)
                    if count < length {
                        ended = true
                        let end = chunk.offset + Int64(count)
                        shortEnd = min(shortEnd ?? end, end)
                    }
                case .failure(let error):
                    chunk.state = .failed(error)
                    ended = true
                }
                let waiting = waiter
                waiter = nil
                waiting?.resume()
                if pending == 0 {
                    let closing = closer
                    closer = nil
                    closing?.resume()
                }
                fill()
            }
        }
    }

    /// The file ended before the chunks still queued: drop those that are done (the
    /// others free their memory in ``close()`` or when the reader goes).
    private func finishEarly() {
        ended = true
        chunks.removeAll { chunk in
            guard case .done(let memory, _) = chunk.state else { return false }
            memory.deallocate()
            return true
        }
    }
}
