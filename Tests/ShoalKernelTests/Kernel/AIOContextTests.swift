import CShoal
import ShoalKernel
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("AIOContext: io_setup, io_submit, io_cancel, io_getevents")
struct AIOContextTests {
    @Test("io_setup beyond fs.aio-max-nr names the sysctl, its value and the request")
    func setupBeyondSystemLimit() throws {
        let limit = try #require(AIOLimits.maximumEvents)
        let asked = limit + 1
        let error = try #require(throws: SystemCallError.self) { _ = try AIOContext(maximumEvents: asked) }
        #expect(error.call == "io_setup")
        #expect(error.errno == .resourceTemporarilyUnavailable)
        #expect(error.description.contains("fs.aio-max-nr is \(limit)"))
        #expect(error.description.contains("asked for \(asked) events"))
        #expect(error.description.contains("fs.aio-nr"))
        #expect(error.description.contains("sysctl -w fs.aio-max-nr"))
    }

    @Test("a non-positive event count is refused before the kernel sees it")
    func setupRejectsZero() {
        #expect(throws: SystemCallError.self) { _ = try AIOContext(maximumEvents: 0) }
    }

    @Test("io_submit with a closed descriptor throws EBADF naming the request")
    func submitBadDescriptor() throws {
        let context = try AIOContext(maximumEvents: 4)
        let byte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
        defer { byte.deallocate() }
        var request = AIORequest.read(descriptor: FileDescriptor(rawValue: 9_999), into: byte, count: 1, offset: 0, userData: 1)
        let error = try #require(throws: SystemCallError.self) { _ = try context.submit(&request) }
        #expect(error.call == "io_submit")
        #expect(error.errno == .badFileDescriptor)
        #expect(error.description.contains("read of 1 bytes at offset 0, descriptor 9999"))
    }

    @Test("io_submit reports a full context as 0 taken, not as an error")
    func submitFullContextIsAValue() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 1))
        let readable = try alwaysReadableEventFD()
        // Far more than the ring holds; nothing is reaped in between.
        var requests = pollRequests(on: readable.descriptor.descriptor, userData: 0..<4_096)
        var pointers = requests.withUnsafeMutableBufferPointer { buffer in
            (0..<buffer.count).map { Optional(buffer.baseAddress! + $0) }
        }
        var taken = 0
        try pointers.withUnsafeMutableBufferPointer { list in
            while true {
                let now = try reaper.context.submit(UnsafeMutableBufferPointer(rebasing: list[taken...]))
                if now == 0 { break }
                taken += now
            }
        }
        let ringSlots = reaper.ringSlots
        let slots = try #require(ringSlots)
        #expect(taken > 0 && taken < slots)
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 4_096)
        let reaped = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0) }
        #expect(reaped == taken)
        _ = requests
    }

    @Test("a poll request can be cancelled; its completion arrives through the ring")
    func cancelPoll() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 4))
        let quiet = try EventFD()  // never signalled: the poll stays in flight
        var request = AIORequest.poll(descriptor: quiet.descriptor.descriptor, events: Int32(POLLIN), userData: 5)
        try #require(try reaper.context.submit(&request))
        #expect(try reaper.context.cancel(&request))
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 2)
        let reaped = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0, minimum: 1, timeout: .seconds(5)) }
        #expect(reaped == 1)
        #expect(events[0].userData == 5)
        // A cancelled poll completes with an empty ready mask.
        #expect(events[0].result == 0)
    }

    @Test("a poll request on an epoll descriptor completes when a watched descriptor is ready")
    func pollOnEpoll() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 4))
        let epoll = try Epoll()
        let wakeup = try EventFD()
        try epoll.add(wakeup.descriptor.descriptor, events: [.readable, .edgeTriggered], token: 42)
        var request = AIORequest.poll(descriptor: epoll.descriptor.descriptor, events: Int32(POLLIN), userData: 9)
        try #require(try reaper.context.submit(&request))
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 2)
        #expect(try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0) } == 0)

        try wakeup.signal()
        let reaped = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0, minimum: 1, timeout: .seconds(5)) }
        #expect(reaped == 1)
        #expect(events[0].userData == 9)
        var ready = [EpollEvent](repeating: EpollEvent(), count: 4)
        let count = try ready.withUnsafeMutableBufferPointer { try epoll.wait(into: $0, timeout: .zero) }
        #expect(count == 1)
        #expect(ready[0].token == 42)
        #expect(ready[0].readiness.contains(.readable))
    }

    @Test("a timed io_getevents ends near its deadline however many signals arrive")
    func timedWaitUnderSignals() throws {
        let context = try AIOContext(maximumEvents: 4)
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 4)
        // A signal every 20 ms for up to 2 s: restarting the full 200 ms timeout on each
        // would never end while the signals last.
        let signals = SignalPesterer(everyMicroseconds: 20_000, limit: 100)
        let reaped = try events.withUnsafeMutableBufferPointer {
            try context.getEvents(minimum: 1, into: $0, timeout: .milliseconds(200))
        }
        let sentDuringWait = signals.signalsSent
        signals.finish()
        #expect(reaped == 0)
        #expect(sentDuringWait >= 2, "the wait was not interrupted: \(sentDuringWait) signals")
        #expect(sentDuringWait < signals.limit, "the wait outlasted \(sentDuringWait) signals")
    }

    @Test("an untimed io_getevents returns its minimum even when a signal cuts the wait")
    func untimedWaitCollectsTheMinimum() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 4), forcesSystemCall: true)
        let readable = try alwaysReadableEventFD()
        let pipe = TestPipe()
        defer { pipe.close() }
        // One completion ready at once, the other when the pipe is written.
        var requests = [
            AIORequest.poll(descriptor: readable.descriptor.descriptor, events: Int32(POLLIN), userData: 1),
            AIORequest.poll(descriptor: pipe.read, events: Int32(POLLIN), userData: 2),
        ]
        var sink: [AIOCompletion] = []
        try submitAll(&requests, to: &reaper, drainingInto: &sink)
        let signals = SignalPesterer(everyMicroseconds: 10_000, limit: 10)
        let writer = ThreadForTest {
            usleep(150_000)  // after the ten signals
            pipe.poke()
        }
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 4)
        let reaped = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0, minimum: 2, timeout: nil) }
        writer.join()
        signals.finish()
        #expect(signals.signalsSent == 10)
        #expect(reaped == 2)
        #expect(Set(events[..<reaped].map(\.userData)) == [1, 2])
        _ = requests
    }

    @Test("a timeout too long for the clock waits without limit; a negative one does not wait")
    func extremeTimeouts() throws {
        let context = try AIOContext(maximumEvents: 4)
        let readable = try alwaysReadableEventFD()
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 2)
        for (index, timeout) in [Duration.seconds(Int64.max), .nanoseconds(Int64.max)].enumerated() {
            var request = AIORequest.poll(
                descriptor: readable.descriptor.descriptor, events: Int32(POLLIN), userData: UInt64(index))
            try #require(try context.submit(&request))
            let reaped = try events.withUnsafeMutableBufferPointer {
                try context.getEvents(minimum: 1, into: $0, timeout: timeout)
            }
            #expect(reaped == 1)
            #expect(events[0].userData == UInt64(index))
        }
        let none = try events.withUnsafeMutableBufferPointer {
            try context.getEvents(minimum: 1, into: $0, timeout: .seconds(-5))
        }
        #expect(none == 0)
    }
}
