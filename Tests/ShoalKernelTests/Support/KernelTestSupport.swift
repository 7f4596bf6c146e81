import CShoal
import ShoalKernel
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
func pollRequests(on fd: FileDescriptor, userData: some Sequence<UInt64>) -> [AIORequest] {
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
        if reaped == 0 {
            Issue.record("no completion within 10 s")
            return
        }
        sink.append(contentsOf: scratch[..<reaped])
    }
}
