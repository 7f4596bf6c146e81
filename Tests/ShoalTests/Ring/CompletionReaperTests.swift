import CShoal
import Testing
#if canImport(Glibc)
import Glibc
#endif

@testable import Shoal

@Suite("CompletionReaper: user-space reaping of the AIO ring")
struct CompletionReaperTests {
    @Test("a zero timeout on an empty ring returns 0 without a system call")
    func emptyRingZeroTimeout() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 8))
        #expect(reaper.unusableReason == nil)
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 4)
        for _ in 0..<1000 {
            let reaped = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0) }
            #expect(reaped == 0)
        }
        #expect(reaper.counters.systemCalls == 0)
        #expect(reaper.counters.userSpaceReaps == 1000)
        #expect(reaper.readyCount == 0)
    }

    @Test("completions match submissions over thousands of wrap-arounds, all reaped in user space")
    func thousandsOfWraps() throws {
        let perBatch = 64
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: perBatch))
        let ringSlots = reaper.ringSlots
        let slots = try #require(ringSlots)
        let readable = try alwaysReadableEventFD()
        var events = [AIOCompletion](repeating: AIOCompletion(), count: perBatch)
        var nextUserData: UInt64 = 1
        let rounds = 2_000 * slots / perBatch + 1  // 2,000 wrap-arounds at least
        for _ in 0..<rounds {
            let first = nextUserData
            var requests = pollRequests(on: readable.descriptor.rawValue, userData: first..<first + UInt64(perBatch))
            nextUserData += UInt64(perBatch)
            var pointers = requests.withUnsafeMutableBufferPointer { buffer in
                (0..<perBatch).map { Optional(buffer.baseAddress! + $0) }
            }
            // The context promises `perBatch` requests in flight: with every slot handed
            // back by the reaper, io_submit must take the whole batch, never EAGAIN.
            let taken = try pointers.withUnsafeMutableBufferPointer { try reaper.context.submit($0) }
            try #require(taken == perBatch, "io_submit took \(taken) of \(perBatch)")
            // Odd-sized reads exercise every split point of the two-piece copy.
            var seen = 0
            while seen < perBatch {
                let want = min(perBatch - seen, 1 + (seen % 7) * 5)
                let reaped = try events.withUnsafeMutableBufferPointer {
                    try reaper.reap(into: UnsafeMutableBufferPointer(rebasing: $0[..<want]), minimum: want, timeout: nil)
                }
                try #require(reaped == want)
                for index in 0..<reaped {
                    #expect(events[index].userData == first + UInt64(seen + index))
                    #expect(events[index].result & Int64(POLLIN) != 0)
                }
                seen += reaped
            }
            _ = requests
        }
        #expect(reaper.counters.systemCalls == 0)
        #expect(reaper.counters.userSpaceCompletions == rounds * perBatch)
        #expect(reaper.counters.userSpaceCompletions / slots >= 2_000)
    }

    @Test("a burst larger than the ring completes, in order, when the submitter reaps as it goes")
    func burstLargerThanRing() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 16))
        let ringSlots = reaper.ringSlots
        let slots = try #require(ringSlots)
        let readable = try alwaysReadableEventFD()
        let total = slots * 10
        var requests = pollRequests(on: readable.descriptor.rawValue, userData: 0..<UInt64(total))
        var completions: [AIOCompletion] = []
        let short = try submitAll(&requests, to: &reaper, drainingInto: &completions)
        try reapUntil(total, from: &reaper, into: &completions)
        #expect(short > 0, "a burst of \(total) into \(slots) slots must fill the context")
        #expect(completions.map(\.userData) == (0..<UInt64(total)).map { $0 })
        #expect(reaper.readyCount == 0)
    }

    @Test("with minimum 1 and nothing ready, reap waits in the kernel and returns the completion")
    func waitsForCompletion() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 4))
        var pipeEnds: [Int32] = [0, 0]
        try #require(pipe(&pipeEnds) == 0)
        let reader = Descriptor(takingOwnershipOf: pipeEnds[0])
        let writer = Descriptor(takingOwnershipOf: pipeEnds[1])
        var request = AIORequest.poll(descriptor: reader.rawValue, events: Int32(POLLIN), userData: 77)
        try #require(try reaper.context.submit(&request))
        #expect(reaper.readyCount == 0)

        let writerFD = writer.rawValue
        let thread = try ThreadForTest {
            usleep(50_000)
            var byte: UInt8 = 1
            _ = Glibc.write(writerFD, &byte, 1)
        }
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 4)
        let reaped = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0, minimum: 1, timeout: nil) }
        thread.join()
        #expect(reaped == 1)
        #expect(events[0].userData == 77)
        #expect(events[0].result & Int64(POLLIN) != 0)
        #expect(reaper.counters.systemCalls == 1)
        #expect(reaper.counters.systemCallCompletions == 1)
        _ = request
    }

    @Test("a wait with a timeout and nothing in flight returns 0 after one system call")
    func waitTimesOut() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 4))
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 4)
        let reaped = try events.withUnsafeMutableBufferPointer {
            try reaper.reap(into: $0, minimum: 1, timeout: .milliseconds(20))
        }
        #expect(reaped == 0)
        #expect(reaper.counters.systemCalls == 1)
    }

    @Test("the forced system-call path gives identical results")
    func forcedSystemCallIsIdentical() throws {
        func run(forced: Bool) throws -> (results: [[Int64]], counters: CompletionReaper.Counters) {
            var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 32), forcesSystemCall: forced)
            let readable = try alwaysReadableEventFD()
            var results: [[Int64]] = []
            var events = [AIOCompletion](repeating: AIOCompletion(), count: 32)
            for round in 0..<500 {
                let batch = 1 + round % 32
                let base = UInt64(round * 100)
                var requests = pollRequests(on: readable.descriptor.rawValue, userData: base..<base + UInt64(batch))
                var sink: [AIOCompletion] = []
                try submitAll(&requests, to: &reaper, drainingInto: &sink)
                var got = 0
                while got < batch {
                    let reaped = try events.withUnsafeMutableBufferPointer {
                        try reaper.reap(into: $0, minimum: 0, timeout: .zero)
                    }
                    for event in events[..<reaped] { results.append([Int64(event.userData), event.result]) }
                    got += reaped
                }
            }
            return (results, reaper.counters)
        }
        let userSpace = try run(forced: false)
        let forced = try run(forced: true)
        #expect(userSpace.results == forced.results)
        #expect(userSpace.counters.systemCalls == 0)
        #expect(forced.counters.userSpaceReaps == 0)
        #expect(forced.counters.systemCallCompletions == forced.results.count)
    }

    /// Ways a ring header could differ from what the reaper understands.
    enum Corruption: CaseIterable, Sendable {
        case magic, incompatibleFeatures, headerLength

        var expectedReason: String {
            switch self {
            case .magic: "magic"
            case .incompatibleFeatures: "incompatible"
            case .headerLength: "header_length"
            }
        }

        func apply(to ring: inout shoal_aio_ring) {
            switch self {
            case .magic: ring.magic = 0xdead_beef
            case .incompatibleFeatures: ring.incompat_features = 1
            case .headerLength: ring.header_length = 8
            }
        }
    }

    @Test("a ring that fails validation falls back to the system call", arguments: Corruption.allCases)
    func unusableRingFallsBack(corruption: Corruption) throws {
        let context = try AIOContext(maximumEvents: 8)
        // A copy of the real header, corrupted the way a future kernel might differ.
        let fake = UnsafeMutablePointer<shoal_aio_ring>.allocate(capacity: 1)
        defer { fake.deallocate() }
        fake.initialize(to: UnsafePointer<shoal_aio_ring>(bitPattern: context.id)!.pointee)
        corruption.apply(to: &fake.pointee)
        var reaper = CompletionReaper(context: context, ringAddress: UInt(bitPattern: fake))
        let unusableReason = reaper.unusableReason
        let reason = try #require(unusableReason)
        #expect(reason.contains(corruption.expectedReason))
        let ringSlots = reaper.ringSlots
        #expect(ringSlots == nil)

        let readable = try alwaysReadableEventFD()
        var requests = pollRequests(on: readable.descriptor.rawValue, userData: 10..<15)
        var completions: [AIOCompletion] = []
        try submitAll(&requests, to: &reaper, drainingInto: &completions)
        try reapUntil(5, from: &reaper, into: &completions)
        #expect(completions.map(\.userData) == [10, 11, 12, 13, 14])
        #expect(reaper.counters.userSpaceReaps == 0)
        #expect(reaper.counters.systemCalls >= 1)
    }
}
