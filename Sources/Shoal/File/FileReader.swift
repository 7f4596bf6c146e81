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

    private let end: Int64?
    private var nextOffset: Int64
    /// Reads started and not completed.
    private var pending = 0
    private var chunks = Deque<Chunk>()
    private var waiter: UnsafeContinuation<Void, Never>?
    /// A short or failed read was seen: no more reads are started.
    private var ended = false
    private var closed = false
    /// Where the reader takes the memory of its reads, and ``recycle(_:)`` puts it back.
    /// Hand it to a ``FileWriter`` that consumes the chunks, so they come back here.
    public let pool: IOBufferPool

    /// A reader of `file` from offset `start` (aligned down for direct I/O) up to `end`
    /// (default: the end of the file).
    ///
    /// - Parameters:
    ///   - chunkSize: bytes per read, rounded up to the file's alignment; default 128 KiB.
    ///   - readAhead: reads in flight at once, at least 1; default 4.
    ///   - pool: buffers to read into (used if they are `chunkSize` bytes with the
    ///     file's alignment; otherwise the reader makes its own).
    public init(
        _ file: File, from start: Int64 = 0, to end: Int64? = nil, chunkSize: Int = 128 << 10, readAhead: Int = 4,
        pool: IOBufferPool? = nil
    ) {
        self.file = file
        self.chunkSize = file.alignUp(max(chunkSize, 1))
        self.readAhead = max(readAhead, 1)
        let first = file.alignDown(max(start, 0))
        self.position = first
        self.nextOffset = first
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
    /// - Throws: the error of the read that failed (``SystemCallError``), and the same
    ///   error again on later calls; `CancellationError` when the task is cancelled while
    ///   it waits (the reads go on; call ``next()`` again, or ``close()``).
    public func next() async throws -> IOBuffer? {
        precondition(file.reactor.isOnReactorThread, "FileReader must be used on its reactor's thread")
        if closed { return nil }
        fill()
        while let head = chunks.first, case .pending = head.state {
            try Task.checkCancellation()
            precondition(waiter == nil, "FileReader.next() called by two tasks at once")
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
        guard let head = chunks.first else { return nil }
        switch head.state {
        case .pending:
            return nil  // not reached: the loop above waits until the head is not pending
        case .failed(let error):
            ended = true
            throw error
        case .done(let memory, let count):
            chunks.removeFirst()
            position = head.offset + Int64(count)
            if count == 0 {
                memory.deallocate()
                finishEarly()
                return nil
            }
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
        precondition(file.reactor.isOnReactorThread, "FileReader must be used on its reactor's thread")
        closed = true
        ended = true
        while chunks.contains(where: { if case .pending = $0.state { true } else { false } }) {
            await withUnsafeContinuation { waiter = $0 }
        }
        for chunk in chunks {
            if case .done(let memory, _) = chunk.state { memory.deallocate() }
        }
        chunks.removeAll()
    }

    /// Starts reads until `readAhead` are in flight, or twice that wait to be returned.
    private func fill() {
        while !ended && pending < readAhead && chunks.count < 2 * readAhead {
            var length = chunkSize
            if let end {
                if nextOffset >= end { ended = true; return }
                length = min(length, file.alignUp(Int(end - nextOffset)))
            }
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
                    if let limit { count = max(0, min(count, Int(limit - chunk.offset))) }
                    chunk.state = .done(memory, count)
                    if count < length { ended = true }
                case .failure(let error):
                    chunk.state = .failed(error)
                    ended = true
                }
                let waiting = waiter
                waiter = nil
                waiting?.resume()
                fill()
            }
        }
    }

    /// The file ended before the chunks still queued: drop them once they complete.
    private func finishEarly() {
        ended = true
        while let chunk = chunks.last, case .done(let memory, _) = chunk.state {
            memory.deallocate()
            chunks.removeLast()
        }
    }
}
