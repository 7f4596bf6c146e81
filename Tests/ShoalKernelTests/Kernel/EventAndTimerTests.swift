import ShoalKernel
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

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

    @Test("a zero or negative delay expires at once instead of disarming")
    func zeroDelay() throws {
        for delay in [Duration.zero, .seconds(-3)] {
            let timer = try TimerFD()
            try timer.arm(after: delay)
            var ready = pollfd(fd: timer.descriptor.rawValue, events: Int16(POLLIN), revents: 0)
            #expect(poll(&ready, 1, 5_000) == 1)
        }
    }

    @Test("a delay too long for the clock arms a timer that does not fire, and does not trap")
    func farDelay() throws {
        let timer = try TimerFD()
        try timer.arm(after: .seconds(Int64.max), repeatingEvery: .seconds(Int64.max))
        var ready = pollfd(fd: timer.descriptor.rawValue, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 20) == 0)
        try timer.arm(atMonotonicNanoseconds: .max)
        #expect(poll(&ready, 1, 20) == 0)
    }
}
