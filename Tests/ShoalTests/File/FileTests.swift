@testable import Shoal
import ShoalKernel
import ShoalTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The pattern bytes of `range` of a pattern file.
func pattern(_ range: Range<Int>) -> [UInt8] { range.map(patternByte(at:)) }

@Suite("File: open, read, write, sync, close on the reactor")
struct FileTests {
    @Test("opening a missing file, a directory or a FIFO fails at once with the path and the cause")
    func openFailures() async throws {
        let fifo = try scratchPath("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let messages = try await runReactor { reactor -> [String] in
            var messages: [String] = []
            for path in ["/nonexistent/shoal", try scratchDirectory(), fifo] {
                do { _ = try await File.open(FilePath(path), on: reactor) } catch { messages.append("\(error)") }
            }
            return messages
        }
        #expect(messages.count == 3)
        #expect(messages[0] == "open /nonexistent/shoal: No such file or directory (errno 2)")
        #expect(messages[1].contains("Is a directory (errno 21)"))
        #expect(messages[2].hasPrefix("open \(fifo): Illegal seek (errno 29); a FIFO has no offsets"))
    }

    @Test("a file on the work disk is direct, with its alignment; buffers it makes fit it; a misaligned request is refused")
    func directAlignment() async throws {
        let path = try scratchPath("direct")
        defer { unlink(path) }
        try writePatternFile(path, size: 8_192)
        let (direct, alignment, aligned, message) = try await runReactor {
            reactor -> (Bool, File.Alignment, Bool, String) in
            let file = try await File.open(FilePath(path), on: reactor)
            let buffer = file.makeBuffer(capacity: 100)
            let aligned = buffer.capacity % file.alignment.offset == 0 && buffer.alignment % file.alignment.memory == 0
            var message = "none"
            do { _ = try await file.read(at: 1, into: file.makeBuffer(capacity: 4_096)) } catch { message = "\(error)" }
            try await file.close()
            return (file.isDirect, file.alignment, aligned, message)
        }
        #expect(direct)
        #expect(alignment.memory >= 1 && alignment.offset >= 512)
        #expect(aligned)
        #expect(message.contains("is not aligned for direct I/O"))
        #expect(message.contains(path))
    }

    @Test("reads return the file's bytes, short at the end; read(at:count:) reads any range")
    func reads() async throws {
        let path = try scratchPath("reads")
        defer { unlink(path) }
        let size = 3 * 4_096 + 123
        try writePatternFile(path, size: size)
        let (counts, whole, ranges) = try await runReactor { reactor -> ([Int], Bool, [Bool]) in
            let file = try await File.open(FilePath(path), on: reactor)
            var counts: [Int] = []
            var buffer = file.makeBuffer(capacity: 8_192)
            for offset in [0, 8_192, 16_384] as [Int64] {
                buffer = try await file.read(at: offset, into: buffer)
                counts.append(buffer.count)
            }
            let all = try await file.read(at: 0, count: size + 1_000)
            var ranges: [Bool] = []
            for (offset, count) in [(1, 10), (4_095, 2), (5_000, 7_000), (size - 5, 100), (size + 10, 5), (0, 0)] {
                let part = try await file.read(at: Int64(offset), count: count)
                let expected = offset >= size ? [] : pattern(offset..<min(offset + count, size))
                ranges.append(part.bytes == expected)
            }
            try await file.close()
            return (counts, all.bytes == pattern(0..<size), ranges)
        }
        #expect(counts == [8_192, 4_096 + 123, 0])
        #expect(whole)
        #expect(ranges.allSatisfy { $0 }, "\(ranges)")
    }

    @Test("writes reach the file; sync, truncate, allocate, size and status work")
    func writes() async throws {
        let path = try scratchPath("writes")
        defer { unlink(path) }
        let (size, content, allocated, truncated) = try await runReactor { reactor -> (Int64, [UInt8], Int64, Int64) in
            let file = try await File.open(FilePath(path), .readWrite, options: [.create, .exclusiveCreate], on: reactor)
            var buffer = file.makeBuffer(capacity: 8_192)
            buffer.append(contentsOf: pattern(0..<8_192))
            buffer = try await file.write(buffer, at: 0)
            buffer.count = 4_096
            buffer = try await file.write(buffer, at: 8_192)
            try await file.sync()
            try await file.syncData()
            let size = try file.size()
            let content = try await file.read(at: 0, count: 12_288).bytes
            try await file.allocate(offset: 0, length: 65_536)
            let allocated = try file.size()
            try await file.truncate(to: 100)
            let truncated = try file.status().size
            try await file.close()
            return (size, content, allocated, truncated)
        }
        #expect(size == 12_288)
        #expect(content == pattern(0..<8_192) + pattern(0..<4_096))
        #expect(allocated == 65_536)
        #expect(truncated == 100)
    }

    @Test("close waits for the reads in flight; later calls throw; closing again does nothing")
    func closeWaits() async throws {
        let path = try scratchPath("close")
        defer { unlink(path) }
        try writePatternFile(path, size: 1 << 20)
        let (results, later, second) = try await runReactor { reactor -> ([Int], String, String) in
            let file = try await File.open(FilePath(path), on: reactor)
            let readers = (0..<8).map { index in
                reactor.spawn {
                    try await file.read(at: Int64(index) << 17, into: file.makeBuffer(capacity: 1 << 17)).count
                }
            }
            await Task.yield()
            try await file.close()
            var results: [Int] = []
            for reader in readers { results.append((try? await reader.value) ?? -1) }
            var later = "none"
            do { _ = try await file.read(at: 0, count: 1) } catch { later = "\(error)" }
            var second = "none"
            do { try await file.close() } catch { second = "\(error)" }
            return (results, later, second)
        }
        // Each read either ran to its end or was refused because the file was closing.
        #expect(results.allSatisfy { $0 == 1 << 17 || $0 == -1 })
        #expect(later.contains("the file was closed"))
        #expect(second == "none")
    }

    @Test("a file system that refuses O_DIRECT: required fails clearly, preferred falls back to buffered I/O")
    func bufferedFallback() async throws {
        guard getuid() == 0 else {
            print("skipped: mounting a ramfs (which refuses O_DIRECT) needs root")
            return
        }
        let directory = try scratchPath("ramfs")
        #expect(mkdir(directory, 0o755) == 0)
        defer { rmdir(directory) }
        guard mount("ramfs", directory, "ramfs", 0, nil) == 0 else {
            print("skipped: mount -t ramfs failed: errno \(errno)")
            return
        }
        defer { umount(directory) }
        let path = directory + "/file"
        defer { unlink(path) }
        let (required, direct, reason, content, blocking, aio) = try await runReactor {
            reactor -> (String, Bool, String?, [UInt8], Int, Int) in
            var required = "opened"
            do {
                _ = try await File.open(FilePath(path), .readWrite, options: [.create, .exclusiveCreate], directIO: .required, on: reactor)
            } catch {
                required = "\(error)"
            }
            let before = reactor.stats
            let file = try await File.open(FilePath(path), .readWrite, options: [.create], on: reactor)
            _ = try await file.write(IOBuffer(bytes: pattern(0..<5_000)), at: 0)
            let back = try await file.read(at: 0, count: 5_000).bytes
            try await file.sync()
            try await file.close()
            let stats = reactor.stats.since(before)
            return (required, file.isDirect, file.directIOUnavailableReason, back, stats.blockingCalls, stats.ioSubmitCalls)
        }
        #expect(required.contains("this file system does not support O_DIRECT"))
        #expect(!direct)
        #expect(reason == "this file system does not support O_DIRECT")
        #expect(content == pattern(0..<5_000))
        #expect(blocking >= 4)  // open, write, read, close (and fsync, if AIO refused it)
        _ = aio
    }
}
