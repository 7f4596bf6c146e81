import CShoal
import Shoal
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A descriptor that is always readable: an eventfd whose counter is never drained.
/// A poll request on it completes inside `io_submit`, so tests can fill the ring at will.
func alwaysReadableEventFD() throws -> EventFD {
    try EventFD(initialValue: 1)
}

/// Poll requests for `userData` values on an always-readable descriptor.
func pollRequests(on fd: Int32, userData: some Sequence<UInt64>) -> [AIORequest] {
    userData.map { AIORequest.poll(descriptor: fd, events: Int32(POLLIN), userData: $0) }
}

/// Submits all of `requests`; when the context is full, reaps into `sink` and retries.
/// Returns how many `io_submit` calls took fewer requests than offered.
@discardableResult
func submitAll(
    _ requests: inout [AIORequest],
    to reaper: inout CompletionReaper,
    drainingInto sink: inout [AIOCompletion]
) throws -> Int {
    var shortSubmissions = 0
    try requests.withUnsafeMutableBufferPointer { requestBuffer in
        var pointers: [UnsafeMutablePointer<AIORequest>?] = (0..<requestBuffer.count).map {
            requestBuffer.baseAddress! + $0
        }
        var next = 0
        var scratch = [AIOCompletion](repeating: AIOCompletion(), count: 256)
        while next < pointers.count {
            let taken = try pointers.withUnsafeMutableBufferPointer { list in
                try reaper.context.submit(UnsafeMutableBufferPointer(rebasing: list[next...]))
            }
            next += taken
            if next < pointers.count {
                shortSubmissions += 1
                let reaped = try scratch.withUnsafeMutableBufferPointer {
                    try reaper.reap(into: $0, minimum: 1, timeout: nil)
                }
                sink.append(contentsOf: scratch[..<reaped])
            }
        }
    }
    return shortSubmissions
}

/// Reaps until `count` completions are in `sink`, waiting as needed.
func reapUntil(_ count: Int, from reaper: inout CompletionReaper, into sink: inout [AIOCompletion]) throws {
    var scratch = [AIOCompletion](repeating: AIOCompletion(), count: 64)
    while sink.count < count {
        let reaped = try scratch.withUnsafeMutableBufferPointer {
            try reaper.reap(into: $0, minimum: 1, timeout: .seconds(10))
        }
        if reaped == 0 { Issue.record("no completion within 10 s"); return }
        sink.append(contentsOf: scratch[..<reaped])
    }
}

/// A directory for test files on a disk file system (O_DIRECT works there, unlike tmpfs):
/// `$SHOAL_SCRATCH_DIR`, else `.shoal-scratch` in the working directory.
func scratchDirectory() throws -> String {
    let base = getenv("SHOAL_SCRATCH_DIR").map { String(cString: $0) } ?? ".shoal-scratch"
    if mkdir(base, 0o755) != 0 && errno != EEXIST {
        throw SystemCallError(call: "mkdir", errno: errno, detail: base)
    }
    return base
}

/// A fresh path in the scratch directory; the file is removed by the caller.
func scratchPath(_ name: String) throws -> String {
    "\(try scratchDirectory())/\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}

/// The byte stored at `offset` of test files: a pattern that differs block to block.
func patternByte(at offset: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: (offset &* 31) ^ (offset >> 12))
}

/// Writes a pattern file of `size` bytes at `path` with plain blocking writes.
func writePatternFile(_ path: String, size: Int) throws {
    let fd = try FileCalls.open(path, options: [.writeOnly, .create, .truncate])
    let bytes = (0..<size).map(patternByte(at:))
    let written = bytes.withUnsafeBytes { Glibc.write(fd.rawValue, $0.baseAddress, $0.count) }
    guard written == size else { throw SystemCallError(call: "write", errno: errno, detail: path) }
}

/// A pipe whose ends are both non-blocking: `(read, write)`.
func nonBlockingPipe() -> (read: Int32, write: Int32) {
    var ends: [Int32] = [0, 0]
    precondition(pipe(&ends) == 0, "pipe failed")
    for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
    return (ends[0], ends[1])
}
