import ShoalKernel
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("FileCalls and file I/O through AIO")
struct FileCallsTests {
    @Test("opening a missing file names the path")
    func openMissing() throws {
        let error = try #require(throws: SystemCallError.self) {
            _ = try FileCalls.open("/nonexistent/shoal-test", options: .readOnly)
        }
        #expect(error.errno == .noSuchFileOrDirectory)
        #expect(error.path == "/nonexistent/shoal-test")
        #expect(error.description == "open /nonexistent/shoal-test: No such file or directory (errno 2)")
    }

    @Test("a file system that refuses O_DIRECT gets a message that says so")
    func directRefused() throws {
        // procfs has no direct I/O; tmpfs accepts O_DIRECT since Linux 6.6.
        let error = try #require(throws: SystemCallError.self) {
            _ = try FileCalls.open("/proc/self/status", options: [.readOnly, .direct])
        }
        #expect(error.errno == .invalidArgument)
        #expect(error.description.contains("open /proc/self/status: "))
        #expect(error.description.contains("this file system does not support O_DIRECT"))
    }

    @Test("size, truncate, allocate and the direct I/O alignment")
    func sizeTruncateAllocate() throws {
        let path = try scratchPath("calls")
        defer { unlink(path) }
        let owned = try FileCalls.open(FilePath(path), options: [.readWrite, .create, .exclusive])
        let fd = owned.descriptor
        #expect(try FileCalls.size(of: fd) == 0)
        try FileCalls.truncate(fd, to: 12_345)
        #expect(try FileCalls.size(of: fd) == 12_345)
        try FileCalls.allocate(fd, offset: 0, length: 65_536)
        #expect(try FileCalls.size(of: fd) == 65_536)
        let alignment = try FileCalls.directIOAlignment(of: fd)
        #expect(alignment.memory > 0 && alignment.memory & (alignment.memory - 1) == 0)
        #expect(alignment.offset > 0 && alignment.offset & (alignment.offset - 1) == 0)
        try FileCalls.sync(fd)
        _ = owned
    }

    @Test("the file system type is named")
    func fileSystemType() throws {
        #expect(try FileCalls.fileSystemType(of: "/proc/self") == "proc")
        let error = try #require(throws: SystemCallError.self) { _ = try FileCalls.fileSystemType(of: "/nonexistent/x") }
        #expect(error.call == "statfs")
        #expect(error.path == "/nonexistent/x")
    }

    @Test("AIO reads return the file's bytes; a read past the end returns a short count")
    func aioReadsMatchContent() throws {
        let path = try scratchPath("reads")
        defer { unlink(path) }
        let block = 4_096
        let blocks = 64
        try writePatternFile(path, size: block * blocks + 100)
        // O_DIRECT where the file system allows it (the work disk), buffered elsewhere.
        let owned =
            try (try? FileCalls.open(FilePath(path), options: [.readOnly, .direct]))
            ?? FileCalls.open(FilePath(path), options: .readOnly)
        let fd = owned.descriptor
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 128))
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: block * (blocks + 1), alignment: block)
        defer { buffer.deallocate() }
        let order = (0...blocks).shuffled()
        var requests = order.map { index in
            AIORequest.read(
                descriptor: fd, into: buffer + index * block, count: block,
                offset: Int64(index * block), userData: UInt64(index))
        }
        var completions: [AIOCompletion] = []
        try submitAll(&requests, to: &reaper, drainingInto: &completions)
        try reapUntil(blocks + 1, from: &reaper, into: &completions)
        #expect(Set(completions.map(\.userData)) == Set((0...blocks).map(UInt64.init)))
        for completion in completions {
            let index = Int(completion.userData)
            #expect(completion.result == (index == blocks ? 100 : Int64(block)))
            let bytes = UnsafeRawBufferPointer(start: buffer + index * block, count: Int(completion.result))
            let expected = (0..<Int(completion.result)).map { patternByte(at: index * block + $0) }
            #expect(Array(bytes) == expected, "block \(index)")
        }
        _ = owned
    }

    @Test("AIO writes, vectored writes and fdatasync reach the file")
    func aioWrites() throws {
        let path = try scratchPath("writes")
        defer { unlink(path) }
        let owned = try FileCalls.open(FilePath(path), options: [.readWrite, .create, .exclusive])
        let fd = owned.descriptor
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 8))
        let first: [UInt8] = Array("hello ".utf8)
        let second: [UInt8] = Array("vectored ".utf8)
        let third: [UInt8] = Array("world".utf8)
        var completions: [AIOCompletion] = []
        try first.withUnsafeBytes { one in
            try second.withUnsafeBytes { two in
                try third.withUnsafeBytes { three in
                    let vectors = [
                        iovec(iov_base: UnsafeMutableRawPointer(mutating: two.baseAddress), iov_len: two.count),
                        iovec(iov_base: UnsafeMutableRawPointer(mutating: three.baseAddress), iov_len: three.count),
                    ]
                    try vectors.withUnsafeBufferPointer { list in
                        var requests = [
                            AIORequest.write(descriptor: fd, from: one.baseAddress!, count: one.count, offset: 0, userData: 1),
                            AIORequest.writev(descriptor: fd, vectors: list.baseAddress!, count: 2, offset: 6, userData: 2),
                        ]
                        try submitAll(&requests, to: &reaper, drainingInto: &completions)
                        try reapUntil(2, from: &reaper, into: &completions)
                    }
                }
            }
        }
        var sync = [AIORequest.fdatasync(descriptor: fd, userData: 3)]
        try submitAll(&sync, to: &reaper, drainingInto: &completions)
        try reapUntil(3, from: &reaper, into: &completions)
        #expect(completions.map(\.result).sorted() == [0, 6, 14])

        var readBack = [UInt8](repeating: 0, count: 32)
        let count = pread(fd.rawValue, &readBack, 32, 0)
        #expect(String(decoding: readBack[..<max(count, 0)], as: UTF8.self) == "hello vectored world")
        _ = owned
    }
}
