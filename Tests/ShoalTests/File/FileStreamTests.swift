import CShoal
import Logging
import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@Suite("FileReader and FileWriter: sequential I/O with several requests in flight")
struct FileStreamTests {
    @Test("a reader returns the whole file in order, in bounded memory", arguments: [0, 1, 4_095, 4_096, 4_097, (1 << 20) + 123])
    func readerReadsEverything(size: Int) async throws {
        let path = try scratchPath("reader")
        defer { unlink(path) }
        try writePatternFile(path, size: size)
        let (bytes, maximumInFlight) = try await runReactor { reactor -> ([UInt8], Int) in
            let file = try await File.open(FilePath(path), on: reactor)
            let reader = FileReader(file, chunkSize: 64 << 10, readAhead: 3)
            var bytes: [UInt8] = []
            var maximumInFlight = 0
            while let chunk = try await reader.next() {
                maximumInFlight = max(maximumInFlight, reactor.io.busy)
                bytes += chunk.bytes
                reader.recycle(chunk)
            }
            #expect(try await reader.next() == nil)
            await reader.close()
            try await file.close()
            return (bytes, maximumInFlight)
        }
        #expect(bytes.count == size)
        #expect(bytes == pattern(0..<size))
        #expect(maximumInFlight <= 3)
    }

    @Test("a writer writes pieces of any size; the file has exactly the bytes written", arguments: [0, 1, 4_095, 4_097, (3 << 20) + 5])
    func writerWritesEverything(size: Int) async throws {
        let path = try scratchPath("writer")
        defer { unlink(path) }
        let expected = pattern(0..<size)
        let (length, onDisk) = try await runReactor { reactor -> (Int64, [UInt8]) in
            let file = try await File.open(FilePath(path), .readWrite, options: [.create, .truncate], on: reactor)
            let writer = FileWriter(file, chunkSize: 64 << 10, writeBehind: 2)
            var offset = 0
            var piece = 1
            while offset < size {
                let end = min(size, offset + piece)
                try await writer.write(expected[offset..<end])
                offset = end
                piece = piece * 3 + 7
            }
            let length = try await writer.finish()
            let onDisk = try await file.read(at: 0, count: size + 4_096).bytes
            try await file.close()
            return (length, onDisk)
        }
        #expect(length == Int64(size))
        #expect(onDisk == expected)
    }

    @Test("a reader's chunks go straight into a writer: a copy")
    func readerIntoWriter() async throws {
        let source = try scratchPath("copy-from")
        let destination = try scratchPath("copy-to")
        defer {
            unlink(source)
            unlink(destination)
        }
        let size = (2 << 20) + 4_097
        try writePatternFile(source, size: size)
        let copied = try await runReactor { reactor -> [UInt8] in
            let input = try await File.open(FilePath(source), on: reactor)
            let output = try await File.open(FilePath(destination), .readWrite, options: [.create, .truncate], on: reactor)
            let reader = FileReader(input)
            let writer = FileWriter(output)
            while let chunk = try await reader.next() { try await writer.write(chunk) }
            try await writer.finish()
            let copied = try await output.read(at: 0, count: size + 1).bytes
            try await input.close()
            try await output.close()
            return copied
        }
        #expect(copied == pattern(0..<size))
    }
}

@Suite("FileReader and FileWriter: ranges, existing files, misuse")
struct FileStreamEdgeTests {
    @Test("a reader of a range returns exactly its bytes, direct or buffered; position ends at the range's end")
    func readerRange() async throws {
        let path = try scratchPath("range")
        defer { unlink(path) }
        try writePatternFile(path, size: 30_000)
        let results = try await runReactor { reactor -> [(Int, Bool, Int64)] in
            var results: [(Int, Bool, Int64)] = []
            for directIO in [File.DirectIO.required, .disabled] {
                let file = try await File.open(FilePath(path), directIO: directIO, on: reactor)
                let reader = FileReader(file, from: 5_000, to: 20_000, chunkSize: 4_096)
                var bytes: [UInt8] = []
                while let chunk = try await reader.next() { bytes += chunk.bytes }
                results.append((bytes.count, bytes == pattern(5_000..<20_000), reader.position))
                let whole = FileReader(file)
                while let chunk = try await whole.next() { whole.recycle(chunk) }
                results.append((0, true, whole.position))
                try await file.close()
            }
            return results
        }
        #expect(results[0].0 == 15_000 && results[0].1 && results[0].2 == 20_000)
        #expect(results[1].2 == 30_000)
        #expect(results[2].0 == 15_000 && results[2].1 && results[2].2 == 20_000)
        #expect(results[3].2 == 30_000)
    }

    @Test("a writer into an existing file keeps the bytes past what it wrote, direct or buffered")
    func writerKeepsTheRest() async throws {
        let results = try await runReactor { reactor -> [Bool] in
            var results: [Bool] = []
            for directIO in [File.DirectIO.required, .disabled] {
                let path = try scratchPath("keep")
                defer { unlink(path) }
                try writePatternFile(path, size: 30_000)
                let file = try await File.open(FilePath(path), .readWrite, directIO: directIO, on: reactor)
                let writer = FileWriter(file, at: 8_192)
                try await writer.write(Array(repeating: 0xAB, count: 100))
                let end = try await writer.finish()
                let bytes = try await file.read(at: 0, count: 40_000).bytes
                try await file.close()
                let expected = pattern(0..<8_192) + Array(repeating: 0xAB, count: 100) + pattern(8_292..<30_000)
                results.append(end == 8_292 && bytes == expected)
            }
            return results
        }
        #expect(results == [true, true])
    }

    @Test("a writer of a write-only direct file ends inside the old bytes without reading them", arguments: [0, 8_192])
    func writeOnlyDirectTail(start: Int) async throws {
        let path = try scratchPath("write-only")
        defer { unlink(path) }
        try writePatternFile(path, size: 30_000)
        let (end, direct) = try await runReactor { reactor -> (String, Bool) in
            let file = try await File.open(FilePath(path), .writeOnly, directIO: .required, on: reactor)
            let writer = FileWriter(file, at: Int64(start), chunkSize: 4_096)
            var end = "none"
            do {
                try await writer.write([UInt8](repeating: 0xCD, count: 5_000))
                end = "\(try await writer.finish())"
            } catch {
                end = "\(error)"
            }
            // Direct I/O is on again once the tail is written.
            let direct = fcntl(file.descriptor.rawValue, F_GETFL) & shoal_o_direct() != 0
            try await file.close()
            return (end, direct)
        }
        #expect(direct)
        #expect(end == "\(start + 5_000)")
        let bytes = try await runReactor { reactor -> [UInt8] in
            let file = try await File.open(FilePath(path), on: reactor)
            let bytes = try await file.read(at: 0, count: 40_000).bytes
            try await file.close()
            return bytes
        }
        let expected = pattern(0..<start) + [UInt8](repeating: 0xCD, count: 5_000) + pattern(start + 5_000..<30_000)
        let same = bytes == expected
        #expect(bytes.count == 30_000 && same)
    }

    @Test("misuse throws: a misaligned writer start, a reader off the reactor thread, after stop")
    func misuse() async throws {
        let path = try scratchPath("stream-misuse")
        defer { unlink(path) }
        try writePatternFile(path, size: 10_000)
        let box = Shared<File?>(nil)
        let (misaligned, offThread) = try await runReactor { reactor -> (String, String) in
            let file = try await File.open(FilePath(path), .readWrite, directIO: .required, on: reactor)
            box.value = file
            var misaligned = "none"
            do { try await FileWriter(file, at: 100).write([1, 2, 3]) } catch { misaligned = "\(error)" }
            let reader = FileReader(file)
            let offThread = await Task.detached { () -> String in
                do { _ = try await reader.next() } catch { return "\(error)" }
                return "none"
            }.value
            return (misaligned, offThread)
        }
        #expect(misaligned.contains("starts at offset 100, not a multiple of"))
        #expect(offThread.contains("called off its reactor's thread"))
        let file = try #require(box.value)
        var afterStop = "none"
        do { _ = try await FileReader(file).next() } catch { afterStop = "\(error)" }
        #expect(afterStop.hasPrefix("the reactor has stopped"))
    }
}

@Suite("FileReader and FileWriter: review findings")
struct FileStreamReviewTests {
    @Test("a file that grows while read gives its bytes as they were, with no gap")
    func growingFile() async throws {
        let path = try scratchPath("growing")
        defer { unlink(path) }
        try writePatternFile(path, size: 4_196)
        let bytes = try await runReactor { reactor -> [UInt8] in
            let file = try await File.open(FilePath(path), directIO: .disabled, on: reactor)
            let reader = FileReader(file, chunkSize: 4_096, readAhead: 2)
            var bytes: [UInt8] = []
            var grown = false
            while let chunk = try await reader.next() {
                bytes += chunk.bytes
                if !grown {
                    grown = true
                    let writer = open(path, O_WRONLY | O_APPEND)
                    _ = [UInt8](repeating: 9, count: 8_000).withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
                    close(writer)
                }
            }
            try await file.close()
            return bytes
        }
        #expect(bytes == pattern(0..<4_196))
    }

    @Test("closing a reader while a task waits in next() gives that task nil")
    func closeWhileWaiting() async throws {
        let path = try scratchPath("close-waiting")
        defer { unlink(path) }
        try writePatternFile(path, size: 100_000)
        let outcome = try await runReactor { reactor -> String in
            let file = try await File.open(FilePath(path), directIO: .disabled, on: reactor)
            // Hold the blocking-call thread so the reader's first read waits behind it.
            let hold = reactor.spawn { try await reactor.performBlocking { _ = usleep(100_000) } }
            try await reactor.sleep(for: .milliseconds(5))
            let reader = FileReader(file)
            let waiter = reactor.spawn { () -> String in
                do {
                    guard let chunk = try await reader.next() else { return "nil" }
                    return "chunk of \(chunk.count)"
                } catch {
                    return "\(error)"
                }
            }
            try await reactor.sleep(for: .milliseconds(5))
            await reader.close()
            let outcome = try await waiter.value
            try await hold.value
            try await file.close()
            return outcome
        }
        #expect(outcome == "nil")
    }

    @Test("a write that cannot be sent fails the writer: no later byte lands after a hole")
    func failedSendIsSticky() async throws {
        let path = try scratchPath("sticky")
        defer { unlink(path) }
        let (second, finish) = try await runReactor { reactor -> (String, String) in
            let file = try await File.open(FilePath(path), .readWrite, options: [.create], directIO: .required, on: reactor)
            let writer = FileWriter(file, chunkSize: 4_096, writeBehind: 1)
            let task = reactor.spawn { () -> String in
                try await writer.write([UInt8](repeating: 1, count: 4_096))
                withUnsafeCurrentTask { $0?.cancel() }
                do { try await writer.write([UInt8](repeating: 2, count: 4_096)) } catch { return "\(type(of: error))" }
                return "written"
            }
            let second = try await task.value
            var finish = "finished"
            do { try await writer.finish() } catch { finish = "\(type(of: error))" }
            try await file.close()
            return (second, finish)
        }
        #expect(second == "CancellationError")
        #expect(finish == "CancellationError")
    }

    @Test("when the grace period ends with buffered reader reads outstanding, the file still closes")
    func bufferedReadsOutliveGracePeriod() async throws {
        let path = try scratchPath("grace-buffered")
        defer { unlink(path) }
        try writePatternFile(path, size: 100_000)
        var configuration = Reactor.Configuration()
        configuration.shutdownGracePeriod = .milliseconds(5)
        let box = Shared<File?>(nil)
        try await runReactor(configuration: configuration) { reactor in
            let file = try await File.open(FilePath(path), directIO: .disabled, on: reactor)
            box.value = file
            // Hold the blocking-call thread past the grace period: the reader's reads wait
            // behind the call, and end after the reactor has stopped.
            reactor.spawn { try await reactor.performBlocking { _ = usleep(200_000) } }
            let reader = FileReader(file)
            reactor.spawn { while (try? await reader.next()) != nil {} }
            try await reactor.sleep(for: .milliseconds(2))
        }
        let file = try #require(box.value)
        #expect(try await closes(file, within: .seconds(2)), "File.close() hangs after the reactor stopped")
    }

    @Test("when the grace period ends with direct reader reads in flight, their completions start no read that strands the file")
    func directReadsOutliveGracePeriod() async throws {
        let path = try scratchPath("grace-direct")
        defer { unlink(path) }
        try writePatternFile(path, size: 32 << 20)
        sync()
        var configuration = Reactor.Configuration()
        configuration.shutdownGracePeriod = .zero
        let box = Shared<File?>(nil)
        try await runReactor(configuration: configuration) { reactor in
            let file = try await File.open(FilePath(path), directIO: .required, on: reactor)
            box.value = file
            // Reads keep completing, and each completion starts the next read: the loop
            // stops with some in the kernel, and reaps them while it stops.
            let reader = FileReader(file, chunkSize: 2 << 20, readAhead: 4)
            reactor.spawn { while (try? await reader.next()) != nil {} }
            try await reactor.sleep(for: .milliseconds(1))
        }
        let file = try #require(box.value)
        #expect(try await closes(file, within: .seconds(2)), "File.close() hangs after the reactor stopped")
        #expect(file.usage.withLock { $0.inFlight } == 0)
    }

    @Test("a writer discarded on an error path waits for its writes, refuses later calls and warns of nothing; one merely dropped warns")
    func discardedWriter() async throws {
        let path = try scratchPath("discard")
        defer { unlink(path) }
        let messages = Shared<[String]>([])
        var configuration = Reactor.Configuration()
        configuration.logger = Logger(label: "test") { _ in CapturingLogHandler(messages: messages) }
        let (busy, later) = try await runReactor(configuration: configuration) { reactor -> (Int, String) in
            let file = try await File.open(FilePath(path), .readWrite, options: [.create], on: reactor)
            let writer = FileWriter(file, chunkSize: 4_096, writeBehind: 2)
            try await writer.write([UInt8](repeating: 1, count: 10_000))
            await writer.discard()
            let busy = reactor.io.busy
            var later = "written"
            do { try await writer.write([1]) } catch { later = "\(error)" }
            // A programmer's mistake: bytes accepted, and the writer dropped unfinished.
            do {
                let dropped = FileWriter(file, chunkSize: 4_096)
                try await dropped.write([UInt8](repeating: 2, count: 100))
            }
            try await file.close()
            return (busy, later)
        }
        #expect(busy == 0)
        #expect(later.hasSuffix("was discarded"), "\(later)")
        let warnings = messages.value.filter { $0.contains("dropped without finish") }
        #expect(warnings.count == 1, "\(messages.value)")
    }

    @Test("on a buffered file, read-ahead and write-behind are capped at two")
    func bufferedCaps() async throws {
        let path = try scratchPath("caps")
        defer { unlink(path) }
        try writePatternFile(path, size: 100)
        let (ahead, behind) = try await runReactor { reactor -> (Int, Int) in
            let file = try await File.open(FilePath(path), .readWrite, directIO: .disabled, on: reactor)
            let caps = (FileReader(file, readAhead: 500).readAhead, FileWriter(file, writeBehind: 300).writeBehind)
            try await file.close()
            return caps
        }
        #expect(ahead == 2 && behind == 2)
    }
}

/// Whether `file.close()`, called off the reactor, returns within `limit` (a close that
/// hangs is left behind, not waited for).
private func closes(_ file: File, within limit: Duration) async throws -> Bool {
    let closed = Shared(false)
    Task.detached {
        try? await file.close()
        closed.value = true
    }
    let deadline = ContinuousClock.now + limit
    while !closed.value && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    return closed.value
}
