import ShoalKernel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A directory for test files on a disk file system (O_DIRECT works there):
/// `$SHOAL_SCRATCH_DIR`, else `.shoal-scratch` in the working directory.
public func scratchDirectory() throws -> String {
    let base = getenv("SHOAL_SCRATCH_DIR").map { String(cString: $0) } ?? ".shoal-scratch"
    if mkdir(base, 0o755) != 0 && errno != EEXIST {
        throw SystemCallError(call: "mkdir", errno: Errno(rawValue: errno), path: FilePath(base))
    }
    return base
}

/// A fresh path in the scratch directory; the file is removed by the caller.
public func scratchPath(_ name: String) throws -> String {
    "\(try scratchDirectory())/\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}

/// The byte stored at `offset` of test files: a pattern that differs block to block.
public func patternByte(at offset: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: (offset &* 31) ^ (offset >> 12))
}

/// Writes a pattern file of `size` bytes at `path` with plain blocking writes.
public func writePatternFile(_ path: String, size: Int) throws {
    let fd = try FileCalls.open(FilePath(path), options: [.writeOnly, .create, .truncate])
    let bytes = (0..<size).map(patternByte(at:))
    let written = bytes.withUnsafeBytes { Glibc.write(fd.rawValue, $0.baseAddress, $0.count) }
    guard written == size else { throw SystemCallError(call: "write", errno: Errno(rawValue: errno), path: FilePath(path)) }
}

/// A pipe whose ends are both non-blocking.
public struct TestPipe: Sendable {
    public let read: FileDescriptor
    public let write: FileDescriptor

    public init() {
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0, "pipe failed")
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        read = FileDescriptor(rawValue: ends[0])
        write = FileDescriptor(rawValue: ends[1])
    }

    /// Writes one byte to the write end.
    public func poke(_ byte: UInt8 = 1) {
        var byte = byte
        _ = Glibc.write(write.rawValue, &byte, 1)
    }

    /// Reads one byte from the read end, or `nil` when none is there.
    public func take() -> UInt8? {
        var byte: UInt8 = 0
        return Glibc.read(read.rawValue, &byte, 1) == 1 ? byte : nil
    }

    public func close() {
        _ = Glibc.close(read.rawValue)
        _ = Glibc.close(write.rawValue)
    }
}

/// A value shared between tasks and threads in tests.
public final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    public init(_ value: Value) { storage = Mutex(value) }
    public var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
    @discardableResult
    public func update<R>(_ body: (inout Value) -> R) -> R { storage.withLock { body(&$0) } }
}
