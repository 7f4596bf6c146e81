import ShoalTestSupport
import Testing

@testable import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

@Suite("Epoll")
struct EpollTests {
    @Test("registered descriptors report their token; modify and remove take effect")
    func registerModifyRemove() throws {
        let epoll = try Epoll()
        let event = try EventFD()
        let fd = event.descriptor.descriptor
        var ready = [EpollEvent](repeating: EpollEvent(), count: 4)
        func poll() throws -> [UInt64] {
            let count = try ready.withUnsafeMutableBufferPointer { try epoll.wait(into: $0, timeout: .zero) }
            return ready[..<count].map(\.token)
        }
        try epoll.add(fd, events: .readable, token: 1)
        #expect(try poll() == [])
        try event.signal()
        #expect(try poll() == [1])
        try epoll.modify(fd, events: .readable, token: 2)
        #expect(try poll() == [2])
        try epoll.remove(fd)
        #expect(try poll() == [])
    }

    @Test("removing an unregistered descriptor names the operation")
    func removeUnregistered() throws {
        let epoll = try Epoll()
        let event = try EventFD()
        let error = try #require(throws: SystemCallError.self) { try epoll.remove(event.descriptor.descriptor) }
        #expect(error.errno == .noSuchFileOrDirectory)
        #expect(error.description.contains("EPOLL_CTL_DEL"))
    }

    @Test("timeouts round up to whole milliseconds, so a wait never ends early")
    func timeoutRounding() {
        #expect(Epoll.roundUpToMilliseconds(nanoseconds: 0) == 0)
        #expect(Epoll.roundUpToMilliseconds(nanoseconds: 1) == 1)
        #expect(Epoll.roundUpToMilliseconds(nanoseconds: 1_500_000) == 2)
        #expect(Epoll.roundUpToMilliseconds(nanoseconds: 2_000_000_000) == 2_000)
        #expect(Epoll.roundUpToMilliseconds(nanoseconds: .max) == .max)
    }

    @Test("a timeout too long for the clock waits without limit instead of trapping")
    func farTimeout() throws {
        let epoll = try Epoll()
        let event = try EventFD(initialValue: 1)
        try epoll.add(event.descriptor.descriptor, events: .readable, token: 7)
        var ready = [EpollEvent](repeating: EpollEvent(), count: 4)
        for timeout in [Duration.seconds(Int64.max), .nanoseconds(Int64.max)] {
            let count = try ready.withUnsafeMutableBufferPointer { try epoll.wait(into: $0, timeout: timeout) }
            #expect(count == 1)
            #expect(ready[0].token == 7)
        }
        try epoll.remove(event.descriptor.descriptor)
        let none = try ready.withUnsafeMutableBufferPointer { try epoll.wait(into: $0, timeout: .seconds(-1)) }
        #expect(none == 0)
    }

    @Test("a timed epoll_wait ends near its deadline however many signals arrive")
    func timedWaitUnderSignals() throws {
        let epoll = try Epoll()
        var ready = [EpollEvent](repeating: EpollEvent(), count: 4)
        // A signal every 5 ms for up to 2 s: a wait that restarted its 50 ms on each
        // would last as long as the signals.
        let signals = SignalPesterer(everyMicroseconds: 5_000, limit: 400)
        let count = try ready.withUnsafeMutableBufferPointer { try epoll.wait(into: $0, timeout: .milliseconds(50)) }
        let sentDuringWait = signals.signalsSent
        signals.finish()
        #expect(count == 0)
        #expect(sentDuringWait >= 2, "the wait was not interrupted: \(sentDuringWait) signals")
        #expect(sentDuringWait < signals.limit, "the wait outlasted \(sentDuringWait) signals")
    }
}
