import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// Opens `path` for reading with O_DIRECT where the file system allows it.
func openForReading(_ path: String) throws -> OwnedDescriptor {
    try (try? FileCalls.open(FilePath(path), options: [.readOnly, .direct]))
        ?? FileCalls.open(FilePath(path), options: .readOnly)
}

@Suite("Reactor AIO: reads, writes, sync, batching, errors, cancellation")
struct ReactorIOTests {
    @Test("reads return the file's bytes in the buffer; a tick's requests go to the kernel in batches")
    func readsMatchContent() async throws {
        let path = try scratchPath("reactor-reads")
        defer { unlink(path) }
        let block = 4_096
        let blocks = 32
        try writePatternFile(path, size: block * blocks)
        let (matches, stats) = try await runReactor { reactor -> ([Bool], ReactorStats) in
            let owned = try openForReading(path)
            let fd = owned.descriptor
            try await reactor.sleep(for: .milliseconds(1))
            let before = reactor.stats
            let matches = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<blocks {
                    group.addTask {
                        let buffer = try await reactor.read(
                            from: fd, at: Int64(index * block), into: IOBuffer(capacity: block))
                        return buffer.count == block
                            && buffer.bytes == (0..<block).map { patternByte(at: index * block + $0) }
                            && reactor.isOnReactorThread
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            _ = owned
            return (matches, reactor.stats.since(before))
        }
        #expect(matches.count == blocks)
        #expect(matches.allSatisfy { $0 })
        // The 32 tasks queue their reads in one task phase (or a few, in a debug build).
        // The first goes at once (the kernel has nothing to do), the rest in batches that
        // grow while the kernel has four times as many as wait: about a dozen calls.
        #expect(stats.ioSubmitCalls < blocks, "\(stats.ioSubmitCalls) io_submit calls for \(blocks) reads")
    }

    @Test("a read past the end of the file gives a short count, and zero at the end")
    func shortReads() async throws {
        let path = try scratchPath("reactor-short")
        defer { unlink(path) }
        try writePatternFile(path, size: 4_096 + 100)
        let counts = try await runReactor { reactor -> [Int] in
            let owned = try openForReading(path)
            var buffer = IOBuffer(capacity: 4_096)
            var counts: [Int] = []
            for offset in [0, 4_096, 8_192] as [Int64] {
                buffer = try await reactor.read(from: owned.descriptor, at: offset, into: buffer)
                counts.append(buffer.count)
            }
            _ = owned
            return counts
        }
        #expect(counts == [4_096, 100, 0])
    }

    @Test("a written buffer comes back for reuse; synchronize flushes; the file holds every byte")
    func writeAndSync() async throws {
        let path = try scratchPath("reactor-writes")
        defer { unlink(path) }
        let (returned, content) = try await runReactor { reactor -> ([Int], [UInt8]) in
            let owned = try FileCalls.open(FilePath(path), options: [.readWrite, .create, .exclusive])
            let fd = owned.descriptor
            var buffer = IOBuffer(bytes: Array("hello ".utf8))
            var returned: [Int] = []
            buffer = try await reactor.write(buffer, to: fd, at: 0)
            returned.append(buffer.count)
            buffer.count = 0
            buffer = IOBuffer(bytes: Array("world".utf8))
            buffer = try await reactor.write(buffer, to: fd, at: 6)
            returned.append(buffer.count)
            try await reactor.synchronize(fd)
            try await reactor.synchronize(fd, dataOnly: true)
            let back = try await reactor.read(from: fd, at: 0, into: IOBuffer(capacity: 64))
            _ = owned
            return (returned, back.bytes)
        }
        #expect(returned == [6, 5])
        #expect(String(decoding: content, as: UTF8.self) == "hello world")
    }

    @Test("bad arguments are refused with a clear error before the kernel sees them")
    func badArguments() async throws {
        let messages = try await runReactor { reactor -> [String] in
            let fd = FileDescriptor(rawValue: 0)
            var messages: [String] = []
            do { _ = try await reactor.read(from: fd, at: -1, into: IOBuffer(capacity: 8)) } catch { messages.append("\(error)") }
            do { _ = try await reactor.read(from: fd, at: 0, into: IOBuffer(capacity: 8), count: 9) } catch { messages.append("\(error)") }
            do { _ = try await reactor.write(IOBuffer(capacity: 8), to: fd, at: -4_096) } catch { messages.append("\(error)") }
            return messages
        }
        #expect(
            messages == [
                "invalid argument: read at negative offset -1",
                "invalid argument: read of 9 bytes does not fit a buffer of 8 bytes",
                "invalid argument: write at negative offset -4096",
            ])
    }

    @Test("a request the kernel rejects throws the io_submit error; a failed request names its call; the reactor keeps going")
    func rejectedAndFailedRequests() async throws {
        let (rejected, failed, after) = try await runReactor { reactor -> (SystemCallError?, SystemCallError?, Int) in
            var rejected: SystemCallError?
            do {
                _ = try await reactor.read(from: FileDescriptor(rawValue: 9_999), at: 0, into: IOBuffer(capacity: 1))
            } catch let error as SystemCallError {
                rejected = error
            }
            // A misaligned O_DIRECT read is accepted by io_submit and fails in the kernel.
            let path = try scratchPath("reactor-einval")
            defer { unlink(path) }
            try writePatternFile(path, size: 8_192)
            var failed: SystemCallError?
            if let owned = try? FileCalls.open(FilePath(path), options: [.readOnly, .direct]) {
                do {
                    _ = try await reactor.read(from: owned.descriptor, at: 1, into: IOBuffer(capacity: 4_096))
                } catch let error as SystemCallError {
                    failed = error
                }
                _ = owned
            }
            let event = try EventFD(initialValue: 1)
            let mask = try await reactor.perform(.poll(descriptor: event.descriptor.descriptor, events: Int32(POLLIN), userData: 0))
            return (rejected, failed, Int(mask))
        }
        #expect(rejected?.call == "io_submit")
        #expect(rejected?.errno == .badFileDescriptor)
        #expect(failed?.call == "read")
        #expect(failed?.errno == .invalidArgument)
        #expect(failed?.description.contains("AIO read of 4096 bytes at offset 1") == true)
        #expect(failed?.description.contains("with O_DIRECT, the buffer address, offset and length must be aligned") == true)
        #expect(after & Int(POLLIN) != 0)
    }

    @Test("a cancelled AIO poll resumes with CancellationError and is cancelled in the kernel")
    func cancelPoll() async throws {
        let (error, stats) = try await runReactor { reactor -> (String, ReactorStats) in
            let quiet = try EventFD()
            let fd = quiet.descriptor.descriptor
            let before = reactor.stats
            let waiter = reactor.spawn {
                try await reactor.perform(.poll(descriptor: fd, events: Int32(POLLIN), userData: 0))
            }
            try await reactor.sleep(for: .milliseconds(5))
            waiter.cancel()
            let outcome = await waiter.result
            try await reactor.sleep(for: .milliseconds(5))
            _ = quiet
            guard case .failure(let error) = outcome else { return ("no error", reactor.stats.since(before)) }
            return ("\(type(of: error))", reactor.stats.since(before))
        }
        #expect(error == "CancellationError")
        #expect(stats.ioCancelCalls == 1)
    }

    @Test("a request cancelled before it was submitted never reaches the kernel")
    func cancelQueued() async throws {
        let (error, submits) = try await runReactor { reactor -> (String, Int) in
            let event = try EventFD(initialValue: 1)
            let fd = event.descriptor.descriptor
            try await reactor.sleep(for: .milliseconds(1))
            let before = reactor.stats
            let task = reactor.spawn { () async throws -> Int64 in
                withUnsafeCurrentTask { $0?.cancel() }
                return try await reactor.perform(.poll(descriptor: fd, events: Int32(POLLIN), userData: 0))
            }
            let outcome = await task.result
            _ = event
            guard case .failure(let error) = outcome else { return ("no error", 0) }
            return ("\(type(of: error))", reactor.stats.since(before).ioSubmitCalls)
        }
        #expect(error == "CancellationError")
        #expect(submits == 0)
    }

    @Test("a read cancelled in flight resumes at once; the reactor keeps its buffer until the kernel is done")
    func cancelReadInFlight() async throws {
        let path = try scratchPath("reactor-cancel-read")
        defer { unlink(path) }
        let size = 32 << 20
        try writePatternFile(path, size: size)
        sync()  // so the O_DIRECT read goes to the disk and takes a while
        let (outcome, heldWhileInFlight, heldAfter, reusable) = try await runReactor {
            reactor -> (String, Bool, Bool, Bool) in
            let owned = try openForReading(path)
            let fd = owned.descriptor
            let task = reactor.spawn { () async throws -> (String, Bool) in
                do {
                    let count = try await reactor.read(from: fd, at: 0, into: IOBuffer(capacity: size)).count
                    return ("read \(count)", true)
                } catch {
                    // The task has its error while the kernel may still write into the
                    // buffer: the request's slot, and the memory it owns, stay.
                    return ("\(type(of: error))", reactor.io.busy == 1 && reactor.io.abandonedTotal == 1)
                }
            }
            try await reactor.sleep(for: .microseconds(300))  // submitted by now
            task.cancel()
            let (outcome, held) = try await task.value
            while reactor.io.busy > 0 { try await reactor.sleep(for: .milliseconds(1)) }
            let heldAfter = reactor.io.busy != 0
            let again = try await reactor.read(from: fd, at: 0, into: IOBuffer(capacity: 4_096))
            _ = owned
            return (outcome, held, heldAfter, again.bytes == (0..<4_096).map(patternByte(at:)))
        }
        #expect(outcome == "CancellationError" || outcome == "read \(size)")
        #expect(heldWhileInFlight)
        #expect(!heldAfter)
        #expect(reusable)
    }

    @Test("reads from a task off the reactor hop to it and back")
    func readFromElsewhere() async throws {
        let path = try scratchPath("reactor-hop")
        defer { unlink(path) }
        try writePatternFile(path, size: 4_096)
        let (bytes, onReactor) = try await runReactor { reactor -> ([UInt8], Bool) in
            let owned = try openForReading(path)
            let fd = owned.descriptor
            // A detached task without the reactor as preference runs on the global pool.
            let bytes = try await Task.detached {
                try await reactor.read(from: fd, at: 0, into: IOBuffer(capacity: 4_096)).bytes
            }.value
            _ = owned
            return (bytes, reactor.isOnReactorThread)
        }
        #expect(bytes == (0..<4_096).map(patternByte(at:)))
        #expect(onReactor)
    }
}
