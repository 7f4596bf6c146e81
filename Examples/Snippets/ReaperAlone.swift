import ShoalKernel

func reaperAlone() throws {
    let fd = try FileDescriptor.open("/etc/hostname", .readOnly)
    defer { try? fd.close() }
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
    defer { buffer.deallocate() }

    var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 128))
    var request = AIORequest.read(descriptor: fd, into: buffer, count: 4096, offset: 0, userData: 1)
    _ = try reaper.context.submit(&request)

    var events = [AIOCompletion](repeating: AIOCompletion(), count: 32)
    let n = try events.withUnsafeMutableBufferPointer {
        try reaper.reap(into: $0, minimum: 1, timeout: .seconds(1))  // waits in the kernel only if needed
    }
    // events[0].userData == 1, events[0].result == bytes read or -errno
    print("reaped", n, "completion(s):", events[0].userData, events[0].result)
}
