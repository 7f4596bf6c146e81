import Foundation
import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

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

@Suite("File: misuse gets clear errors")
struct FileMisuseTests {
    @Test("append is refused, a write to a read-only file names it, a huge read count reads what there is")
    func misuse() async throws {
        let path = try scratchPath("misuse")
        defer { unlink(path) }
        try writePatternFile(path, size: 5_000)
        let (append, readOnly, huge) = try await runReactor { reactor -> (String, String, Int) in
            var append = "opened"
            do { _ = try await File.open(FilePath(path), .writeOnly, options: [.append], on: reactor) } catch {
                append = "\(error)"
            }
            let file = try await File.open(FilePath(path), on: reactor)
            var readOnly = "written"
            do { _ = try await file.write(file.makeBuffer(capacity: 4_096), at: 0) } catch { readOnly = "\(error)" }
            let huge = try await file.read(at: 0, count: Int.max).count
            try await file.close()
            return (append, readOnly, huge)
        }
        #expect(append.contains("with .append: a File reads and writes at offsets"))
        #expect(readOnly == "invalid argument: write to \(path), which was opened read-only")
        #expect(huge == 5_000)
    }

    @Test("after the reactor stopped, a file's calls throw stopped and name the file")
    func afterStop() async throws {
        let path = try scratchPath("after-stop")
        defer { unlink(path) }
        try writePatternFile(path, size: 100)
        let box = Shared<File?>(nil)
        try await runReactor { reactor in box.value = try await File.open(FilePath(path), on: reactor) }
        let file = try #require(box.value)
        var message = "none"
        do { _ = try await file.read(at: 0, count: 10) } catch { message = "\(error)" }
        #expect(message.hasPrefix("the reactor has stopped"))
        #expect(message.contains(path))
    }
}

@Suite("FileSystem: path calls on the blocking-call thread")
struct FileSystemTests {
    @Test("make, list, rename, status, remove and sync directories and files")
    func pathCalls() async throws {
        let folder = try scratchPath("fs")
        let outcome = try await runReactor { reactor -> [String] in
            let fileSystem = reactor.fileSystem
            var seen: [String] = []
            try await fileSystem.makeDirectory(FilePath(folder))
            try writePatternFile(folder + "/a", size: 10)
            try await fileSystem.rename(FilePath(folder + "/a"), to: FilePath(folder + "/b"))
            seen.append((try await fileSystem.contents(of: FilePath(folder))).joined(separator: ","))
            let status = try await fileSystem.status(of: FilePath(folder + "/b"))
            seen.append("\(status.size) \(status.type == .regular)")
            try await fileSystem.sync(directory: FilePath(folder))
            do { try await fileSystem.removeDirectory(FilePath(folder)) } catch { seen.append("\(error)") }
            try await fileSystem.remove(FilePath(folder + "/b"))
            try await fileSystem.removeDirectory(FilePath(folder))
            do { _ = try await fileSystem.status(of: FilePath(folder)) } catch { seen.append("\(error)") }
            do { try await fileSystem.rename(FilePath(folder + "/x"), to: FilePath(folder + "/y")) } catch {
                seen.append("\(error)")
            }
            return seen
        }
        #expect(outcome.count == 5)
        #expect(outcome[0] == "b")
        #expect(outcome[1] == "10 true")
        #expect(outcome[2] == "rmdir \(folder): Directory not empty (errno 39)")
        #expect(outcome[3] == "stat \(folder): No such file or directory (errno 2)")
        #expect(outcome[4] == "rename \(folder)/x: No such file or directory (errno 2); renaming it to \(folder)/y")
    }
}

@Suite("File: review findings")
struct FileReviewTests {
    @Test("a socket's path is refused with ESPIPE before it is opened")
    func socketPath() async throws {
        let path = try scratchPath("socket")
        defer { unlink(path) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in path.utf8CString.withUnsafeBytes { bytes.copyMemory(from: $0) } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        let message = try await runReactor { reactor -> String in
            do { _ = try await File.open(FilePath(path), on: reactor) } catch { return "\(error)" }
            return "opened"
        }
        #expect(message.contains("Illegal seek (errno 29); a socket has no offsets"))
    }

    @Test("close from a cancelled task still closes the descriptor")
    func closeWhenCancelled() async throws {
        let path = try scratchPath("close-cancelled")
        defer { unlink(path) }
        try writePatternFile(path, size: 100)
        let absolute = FileManager.default.currentDirectoryPath + "/" + path
        // Whether descriptor `number` is still this file (the number may be reused by
        // another file the moment it is closed: that counts as closed).
        @Sendable func stillOpen(_ number: Int32) -> Bool {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(number)")) == absolute
        }
        let leaked = try await runReactor { reactor -> Int in
            var leaked = 0
            for _ in 0..<20 {
                let file = try await File.open(FilePath(path), on: reactor)
                let closer = reactor.spawn {
                    withUnsafeCurrentTask { $0?.cancel() }
                    try? await file.close()
                }
                try await closer.value
                if stillOpen(file.descriptor.rawValue) { leaked += 1 }
            }
            return leaked
        }
        #expect(leaked == 0)
    }

    @Test("close waits until the kernel is done with a cancelled direct read")
    func closeWaitsForAbandonedRequests() async throws {
        let path = try scratchPath("close-abandoned")
        defer { unlink(path) }
        try writePatternFile(path, size: 32 << 20)
        sync()
        let busy = try await runReactor { reactor -> Int in
            let file = try await File.open(FilePath(path), directIO: .required, on: reactor)
            let reader = reactor.spawn { _ = try await file.read(at: 0, into: file.makeBuffer(capacity: 32 << 20)) }
            try await reactor.sleep(for: .microseconds(300))
            reader.cancel()
            _ = await reader.result
            try await file.close()
            return reactor.io.busy
        }
        #expect(busy == 0)
    }

    @Test("opening with .create through a dangling symbolic link creates its target, as open(2) does; .exclusiveCreate refuses")
    func createThroughDanglingLink() async throws {
        let folder = try scratchPath("dangling")
        #expect(mkdir(folder, 0o755) == 0)
        defer { _ = try? run("rm", ["-rf", folder]) }
        #expect(symlink("target", folder + "/link") == 0)
        #expect(symlink("other", folder + "/exclusive") == 0)
        let (created, exclusive) = try await runReactor { reactor -> (String, String) in
            var created = "none"
            do {
                let file = try await File.open(FilePath(folder + "/link"), .readWrite, options: [.create], on: reactor)
                var buffer = file.makeBuffer(capacity: 4_096)
                buffer.count = 4_096
                _ = try await file.write(buffer, at: 0)
                created = "wrote \(try file.size())"
                try await file.close()
            } catch {
                created = "\(error)"
            }
            var exclusive = "opened"
            do {
                _ = try await File.open(
                    FilePath(folder + "/exclusive"), .readWrite, options: [.create, .exclusiveCreate], on: reactor)
            } catch {
                exclusive = "\(error)"
            }
            return (created, exclusive)
        }
        #expect(created == "wrote 4096")
        var info = stat()
        #expect(stat(folder + "/target", &info) == 0 && info.st_mode & S_IFMT == S_IFREG && info.st_size == 4_096)
        #expect(lstat(folder + "/link", &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
        #expect(exclusive == "open \(folder)/exclusive: File exists (errno 17)")
        #expect(access(folder + "/other", F_OK) != 0)
    }

    @Test("with direct I/O required and refused, an existing file is not truncated and a new one is not left")
    func requiredRefusedLeavesFilesAlone() async throws {
        guard getuid() == 0 else {
            print("skipped: mounting a ramfs needs root")
            return
        }
        let directory = try scratchPath("ramfs-required")
        #expect(mkdir(directory, 0o755) == 0)
        defer { rmdir(directory) }
        guard mount("ramfs", directory, "ramfs", 0, nil) == 0 else { return }
        defer { umount(directory) }
        let existing = directory + "/existing"
        let new = directory + "/new"
        let link = directory + "/link"
        defer {
            unlink(existing)
            unlink(new)
            unlink(link)
            unlink(directory + "/target")
        }
        try writePatternFile(existing, size: 10_000)
        #expect(symlink("target", link) == 0)
        try await runReactor { reactor in
            for (path, options) in [(existing, FileDescriptor.OpenOptions.truncate), (new, .create), (link, .create)] {
                _ = try? await File.open(FilePath(path), .writeOnly, options: options, directIO: .required, on: reactor)
            }
        }
        var info = stat()
        #expect(stat(existing, &info) == 0 && info.st_size == 10_000)
        #expect(access(new, F_OK) != 0)
        // The target created through the dangling link goes; the link stays.
        #expect(access(directory + "/target", F_OK) != 0)
        #expect(lstat(link, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
    }
}

@Suite("File: block devices")
struct FileBlockDeviceTests {
    @Test("a block device has its device's size: read(at:count:), a reader and a writer's tail see its bytes")
    func loopDevice() async throws {
        guard getuid() == 0, let losetup = Strace.executable(named: "losetup") else {
            print("skipped: attaching a loop device needs root and losetup")
            return
        }
        let backing = try scratchPath("loop-backing")
        defer { unlink(backing) }
        let size = 4 << 20
        try writePatternFile(backing, size: size)
        let attached = try run(losetup, ["--find", "--show", backing])
        guard attached.status == 0 else {
            print("skipped: losetup could not attach a loop device: \(attached.error)")
            return
        }
        let device = attached.output.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? run(losetup, ["--detach", device]) }
        let (deviceSize, head, streamed, end) = try await runReactor { reactor -> (Int64, [UInt8], [UInt8], String) in
            let file = try await File.open(FilePath(device), .readWrite, on: reactor)
            let deviceSize = try file.size()
            let head = try await file.read(at: 100, count: 10_000).bytes
            let reader = FileReader(file, chunkSize: 1 << 20)
            var streamed: [UInt8] = []
            while let chunk = try await reader.next() { streamed += chunk.bytes }
            // A write that ends inside a block keeps the device's bytes after it; nothing
            // is reserved or cut: a device has the size it has.
            let writer = FileWriter(file, chunkSize: 64 << 10)
            var end = "none"
            do {
                try await writer.write([UInt8](repeating: 0xAB, count: 5_000))
                end = "\(try await writer.finish())"
            } catch {
                end = "\(error)"
            }
            try await file.close()
            return (deviceSize, head, streamed, end)
        }
        // Compared outside #expect: a failure would print megabytes of bytes.
        let headMatches = head == pattern(100..<10_100)
        let streamMatches = streamed == pattern(0..<size)
        #expect(deviceSize == Int64(size))
        #expect(head.count == 10_000 && headMatches)
        #expect(streamed.count == size && streamMatches)
        #expect(end == "5000")
        let fd = open(device, O_RDONLY)
        defer { close(fd) }
        var after = [UInt8](repeating: 0, count: 16_384)
        #expect(pread(fd, &after, after.count, 0) == after.count)
        let tailKept = after == [UInt8](repeating: 0xAB, count: 5_000) + pattern(5_000..<16_384)
        #expect(tailKept)
    }
}
