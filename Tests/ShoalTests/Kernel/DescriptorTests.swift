import Testing
#if canImport(Glibc)
import Glibc
#endif

@testable import Shoal

/// Whether every write end of the pipe whose read end is `reader` is closed: a read then
/// sees end of file. (Checking the descriptor number would race with other tests, which
/// may be handed the same number the moment it is freed.)
private func writersClosed(_ reader: Int32) -> Bool {
    var byte: UInt8 = 0
    return read(reader, &byte, 1) == 0
}

@Suite("Descriptor: owned, closed exactly once")
struct DescriptorTests {
    @Test("going out of scope closes the descriptor")
    func closesOnDeinit() throws {
        let ends = nonBlockingPipe()
        defer { close(ends.read) }
        do {
            let writer = Descriptor(takingOwnershipOf: ends.write)
            #expect(!writersClosed(ends.read))
            _ = writer
        }
        #expect(writersClosed(ends.read))
    }

    @Test("close() closes now and reports nothing on success")
    func explicitClose() throws {
        let ends = nonBlockingPipe()
        defer { close(ends.read) }
        let writer = Descriptor(takingOwnershipOf: ends.write)
        try writer.close()
        #expect(writersClosed(ends.read))
    }

    @Test("release() hands the number back without closing")
    func release() throws {
        let ends = nonBlockingPipe()
        defer { close(ends.read) }
        let raw = Descriptor(takingOwnershipOf: ends.write).release()
        #expect(!writersClosed(ends.read))
        #expect(Glibc.close(raw) == 0)
        #expect(writersClosed(ends.read))
    }

    @Test("errors name the call, the errno and the detail")
    func errorDescription() {
        let error = SystemCallError(call: "open", errno: ENOENT, detail: "/nowhere")
        #expect(error.description == "open failed: No such file or directory (ENOENT): /nowhere")
        #expect(SystemCallError(call: "x", errno: 9_999).errnoName == "errno 9999")
    }
}

@Suite("EventFD and TimerFD")
struct EventAndTimerTests {
    @Test("eventfd sums signals and reports an empty counter as nil")
    func eventFD() throws {
        let event = try EventFD()
        #expect(try event.drain() == nil)
        try event.signal()
        try event.signal(4)
        #expect(try event.drain() == 5)
        #expect(try event.drain() == nil)
    }

    @Test("timerfd expires after its delay and not before; a disarmed timer stays quiet")
    func timerFD() throws {
        let timer = try TimerFD()
        #expect(try timer.drain() == nil)
        try timer.arm(after: .milliseconds(200))
        #expect(try timer.drain() == nil)
        var ready = pollfd(fd: timer.descriptor.rawValue, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 5_000) == 1)
        #expect(try timer.drain() == 1)

        try timer.arm(after: .seconds(60))
        try timer.disarm()
        #expect(poll(&ready, 1, 50) == 0)
    }

    @Test("a zero delay expires at once instead of disarming")
    func zeroDelay() throws {
        let timer = try TimerFD()
        try timer.arm(after: .zero)
        var ready = pollfd(fd: timer.descriptor.rawValue, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 5_000) == 1)
    }
}

@Suite("Epoll")
struct EpollTests {
    @Test("registered descriptors report their token; modify and remove take effect")
    func registerModifyRemove() throws {
        let epoll = try Epoll()
        let event = try EventFD()
        var ready = [EpollEvent](repeating: EpollEvent(), count: 4)
        func poll() throws -> [UInt64] {
            let count = try ready.withUnsafeMutableBufferPointer { try epoll.wait(into: $0, timeout: .zero) }
            return ready[..<count].map(\.token)
        }
        try epoll.add(event.descriptor.rawValue, events: .readable, token: 1)
        #expect(try poll() == [])
        try event.signal()
        #expect(try poll() == [1])
        try epoll.modify(event.descriptor.rawValue, events: .readable, token: 2)
        #expect(try poll() == [2])
        try epoll.remove(event.descriptor.rawValue)
        #expect(try poll() == [])
    }

    @Test("removing an unregistered descriptor names the operation")
    func removeUnregistered() throws {
        let epoll = try Epoll()
        let event = try EventFD()
        let error = try #require(throws: SystemCallError.self) { try epoll.remove(event.descriptor.rawValue) }
        #expect(error.errno == ENOENT)
        #expect(error.description.contains("EPOLL_CTL_DEL"))
    }

    @Test("timeouts round up to whole milliseconds, so a wait never ends early")
    func timeoutRounding() {
        #expect(Epoll.roundUpToMilliseconds(.zero) == 0)
        #expect(Epoll.roundUpToMilliseconds(.nanoseconds(1)) == 1)
        #expect(Epoll.roundUpToMilliseconds(.microseconds(1_500)) == 2)
        #expect(Epoll.roundUpToMilliseconds(.seconds(2)) == 2_000)
        #expect(Epoll.roundUpToMilliseconds(.seconds(-1)) == 0)
    }
}
