import CShoal
import ShoalKernel
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

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
            var requests = pollRequests(on: readable.descriptor.descriptor, userData: first..<first + UInt64(perBatch))
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
        var requests = pollRequests(on: readable.descriptor.descriptor, userData: 0..<UInt64(total))
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
        let pipe = TestPipe()
        defer { pipe.close() }
        var request = AIORequest.poll(descriptor: pipe.read, events: Int32(POLLIN), userData: 77)
        try #require(try reaper.context.submit(&request))
        #expect(reaper.readyCount == 0)

        let thread = ThreadForTest {
            usleep(50_000)
            pipe.poke()
        }
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 4)
        let reaped = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0, minimum: 1, timeout: nil) }
        thread.join()
        #expect(reaped == 1)
        #expect(events[0].userData == 77)
        #expect(events[0].result & Int64(POLLIN) != 0)
        // The completion came from the kernel's wait (one or more io_getevents, as the
        // thread may be descheduled), or, if the write beat the reap, from the ring.
        #expect(reaper.counters.completions == 1)
        #expect(reaper.counters.systemCalls + reaper.counters.userSpaceReaps >= 1)
        _ = request
    }

    @Test("a wait with a timeout and nothing in flight returns 0, and not before the timeout")
    func waitTimesOut() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 4))
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 4)
        let start = ContinuousClock.now
        let reaped = try events.withUnsafeMutableBufferPointer {
            try reaper.reap(into: $0, minimum: 1, timeout: .milliseconds(20))
        }
        let waited = ContinuousClock.now - start
        #expect(reaped == 0)
        #expect(waited >= .milliseconds(20), "returned after \(waited)")
        #expect(reaper.counters.systemCalls >= 1)
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
                var requests = pollRequests(on: readable.descriptor.descriptor, userData: base..<base + UInt64(batch))
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

    /// Ways the ring header, memory the process can write, may be corrupted.
    enum Corruption: CaseIterable, Sendable {
        case magic, incompatibleFeatures, headerLengthShort, headerLengthHuge, slotsHuge, slotsTooFew, slotsSmaller,
            slotsLarger, headHuge, tailHuge

        /// The header field (index of the 32-bit word) and the value written into it.
        var field: (index: Int, value: UInt32) {
            switch self {
            case .magic: (4, 0xdead_beef)
            case .incompatibleFeatures: (6, 1)
            case .headerLengthShort: (7, 8)
            case .headerLengthHuge: (7, 1 << 30)
            case .slotsHuge: (1, 1 << 30)
            case .slotsTooFew: (1, 3)
            // Within every other bound, but not what the mapping holds: fewer slots would
            // lose completions, more would read memory past the ring.
            case .slotsSmaller: (1, 9)
            case .slotsLarger: (1, 255)
            case .headHuge: (2, 1 << 29)
            case .tailHuge: (3, (1 << 29) + 1)
            }
        }

        /// Words of the reason the reaper gives.
        var expectedReason: String {
            switch self {
            case .magic: "magic"
            case .incompatibleFeatures: "incompatible"
            case .headerLengthShort, .headerLengthHuge: "header_length"
            case .slotsHuge, .slotsTooFew, .slotsSmaller, .slotsLarger: "slots"
            case .headHuge, .tailHuge: "head"
            }
        }

        /// Whether the kernel reads the field too (head and tail): those are put back
        /// after the reaper has looked, so the system call sees a sane ring.
        var kernelReadsIt: Bool { self == .headHuge || self == .tailHuge }
    }

    @Test(
        "a corrupt ring header fails validation and every reap falls back to the system call",
        arguments: Corruption.allCases)
    func corruptHeaderFallsBack(corruption: Corruption) throws {
        let context = try AIOContext(maximumEvents: 8)
        let header = RingHeader(context.id)
        let (field, value) = corruption.field
        let original = header[field]
        header[field] = value
        var reaper = CompletionReaper(context: context)
        if corruption.kernelReadsIt { header[field] = original }
        let unusableReason = reaper.unusableReason
        let reason = try #require(unusableReason)
        #expect(reason.contains(corruption.expectedReason), "\(reason)")
        let ringSlots = reaper.ringSlots
        #expect(ringSlots == nil)

        // The kernel writes events at its own offset and bounds: results stay right.
        let readable = try alwaysReadableEventFD()
        var requests = pollRequests(on: readable.descriptor.descriptor, userData: 10..<15)
        var completions: [AIOCompletion] = []
        try submitAll(&requests, to: &reaper, drainingInto: &completions)
        try reapUntil(5, from: &reaper, into: &completions)
        #expect(completions.map(\.userData) == [10, 11, 12, 13, 14])
        #expect(reaper.counters.userSpaceReaps == 0)
        #expect(reaper.counters.systemCalls >= 1)
    }

    @Test("head corrupted mid-life: the reap in progress gives up on the ring and repairs head; nothing is lost")
    func midLifeHeadCorruption() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 16))
        let header = RingHeader(reaper.context.id)
        let readable = try alwaysReadableEventFD()
        var requests = pollRequests(on: readable.descriptor.descriptor, userData: 0..<8)
        var completions: [AIOCompletion] = []
        try submitAll(&requests, to: &reaper, drainingInto: &completions)
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 16)
        // Half in user space, as usual.
        let first = try events.withUnsafeMutableBufferPointer {
            try reaper.reap(into: UnsafeMutableBufferPointer(rebasing: $0[..<4]))
        }
        completions += events[..<first]
        #expect(reaper.unusableReason == nil)
        #expect(reaper.counters.userSpaceReaps == 1)

        // Out of range, and then merely moved: both are caught.
        for corrupt in [UInt32(1 << 29), 1] {
            var fresh = CompletionReaper(context: try AIOContext(maximumEvents: 4))
            RingHeader(fresh.context.id)[2] = corrupt
            var none = [AIOCompletion](repeating: AIOCompletion(), count: 4)
            _ = try none.withUnsafeMutableBufferPointer { try fresh.reap(into: $0) }
            #expect(fresh.unusableReason != nil, "head \(corrupt) was not noticed")
        }

        header[2] = 1 << 29
        // This reap finds head changed behind its back, puts back the head it knows,
        // and asks the kernel, which then reads a sane ring.
        let second = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0) }
        let reason = reaper.unusableReason
        #expect(reason?.contains("head 536870912") == true, "\(String(describing: reason))")
        #expect(reaper.counters.systemCalls == 1)
        completions += events[..<second]
        try reapUntil(8, from: &reaper, into: &completions)
        #expect(completions.map(\.userData) == (0..<8).map { $0 })
        #expect(reaper.counters.userSpaceReaps == 1)
    }

    @Test("tail corrupted mid-life: the reap gives up on the ring and makes the system call, never reads out of bounds")
    func midLifeTailCorruption() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 16))
        let header = RingHeader(reaper.context.id)
        let original = header[3]
        header[3] = (1 << 29) + 1
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 16)
        // The kernel reads the same field in io_getevents, so what it returns while the
        // tail is corrupt is not asserted: only that the reaper stops reading the ring.
        _ = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0) }
        header[3] = original
        let reason = reaper.unusableReason
        #expect(reason?.contains("tail 536870913") == true, "\(String(describing: reason))")
        #expect(reaper.counters.systemCalls == 1)
        #expect(reaper.counters.userSpaceReaps == 0)
        #expect(reaper.ringSlots == nil)
    }

    @Test("a corrupt head never makes readyCount trap")
    func readyCountWithCorruptHead() throws {
        let reaper = CompletionReaper(context: try AIOContext(maximumEvents: 8))
        RingHeader(reaper.context.id)[2] = 1 << 29
        let ready = reaper.readyCount
        #expect(ready == 0)
    }

    @Test("a head written by someone else while the reaper waited in io_getevents is not adopted")
    func headWrittenDuringSystemCall() throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 8))
        let header = RingHeader(reaper.context.id)
        let stop = Shared(false)
        let writer = ThreadForTest {
            usleep(5_000)
            while !stop.value { header[2] = 1_000 }
        }
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 4)
        _ = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0, minimum: 1, timeout: .milliseconds(30)) }
        stop.value = true
        writer.join()
        // The next reap must not trust the foreign head: no trap, a fallback instead.
        _ = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0) }
        #expect(reaper.unusableReason != nil)
    }

    @Test(
        "an in-range head written by someone else while the reaper waited in io_getevents is not adopted",
        arguments: [UInt32(1), 5])
    func inRangeHeadWrittenDuringSystemCall(foreign: UInt32) throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 8))
        let header = RingHeader(reaper.context.id)
        let writer = ThreadForTest {
            usleep(5_000)
            header[2] = foreign
        }
        var events = [AIOCompletion](repeating: AIOCompletion(), count: 64)
        // Nothing is in flight: the kernel waits out the timeout, and whatever it returns
        // (it may read the foreign head on waking), the head it leaves is not the one the
        // reaper expects after that many completions.
        _ = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0, minimum: 1, timeout: .milliseconds(40)) }
        writer.join()
        let reason = reaper.unusableReason
        #expect(reason?.contains("out of place") == true, "\(String(describing: reason))")
        #expect(reaper.ringSlots == nil)
        // The next reap does not read slots from the foreign head in user space.
        _ = try events.withUnsafeMutableBufferPointer { try reaper.reap(into: $0) }
        #expect(reaper.counters.userSpaceReaps == 0)
        #expect(reaper.counters.systemCalls == 2)
    }

    @Test(
        "fields read only at validation (slots, header length, magic) are never trusted again",
        arguments: [Corruption.slotsHuge, .headerLengthHuge, .magic])
    func midLifeHeaderCorruption(corruption: Corruption) throws {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 16))
        let ringSlots = reaper.ringSlots
        let slots = try #require(ringSlots)
        let header = RingHeader(reaper.context.id)
        let (field, value) = corruption.field
        header[field] = value
        // Several wrap-arounds of the ring with the corrupt header: every completion
        // arrives, in order, from the ring, and nothing is read out of bounds.
        let readable = try alwaysReadableEventFD()
        var completions: [AIOCompletion] = []
        let total = slots * 3
        var requests = pollRequests(on: readable.descriptor.descriptor, userData: 0..<UInt64(total))
        try submitAll(&requests, to: &reaper, drainingInto: &completions)
        try reapUntil(total, from: &reaper, into: &completions)
        #expect(completions.map(\.userData) == (0..<UInt64(total)).map { $0 })
        #expect(reaper.unusableReason == nil)
        #expect(reaper.counters.systemCalls == 0)
    }

    @Test("O_DIRECT reads completing while the reaper reaps: 100,000 completions, none lost, doubled or wrong")
    func kernelWriterRacesReaper() throws {
        let path = try scratchPath("race")
        defer { unlink(path) }
        let block = 4_096
        let blocks = 4_096  // 16 MiB
        try writePatternFile(path, size: block * blocks)
        let owned =
            try (try? FileCalls.open(FilePath(path), options: [.readOnly, .direct]))
            ?? FileCalls.open(FilePath(path), options: .readOnly)
        let fd = owned.descriptor
        let depth = 64
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: depth))
        let buffers = UnsafeMutableRawPointer.allocate(byteCount: depth * block, alignment: block)
        defer { buffers.deallocate() }
        let requests = UnsafeMutablePointer<AIORequest>.allocate(capacity: depth)
        defer { requests.deallocate() }
        var blockOf = [Int](repeating: -1, count: depth)
        var generator = SystemRandomNumberGenerator()

        let total = 100_000
        var submitted = 0
        var completed = 0
        var wrong = 0
        var freeSlots = Array(0..<depth)
        var events = [AIOCompletion](repeating: AIOCompletion(), count: depth)
        while completed < total {
            // Refill every free slot with a read of a random block.
            while let slot = freeSlots.popLast(), submitted < total {
                let index = Int.random(in: 0..<blocks, using: &generator)
                blockOf[slot] = index
                requests[slot] = .read(
                    descriptor: fd, into: buffers + slot * block, count: block, offset: Int64(index * block),
                    userData: UInt64(submitted) << 16 | UInt64(slot))
                try #require(try reaper.context.submit(requests + slot))
                submitted += 1
            }
            // Mostly polls of the ring, racing the kernel's writes; a wait when it is empty.
            let reaped = try events.withUnsafeMutableBufferPointer {
                try reaper.reap(into: $0, minimum: completed % 3 == 0 ? 1 : 0, timeout: .seconds(10))
            }
            for event in events[..<reaped] {
                let slot = Int(event.userData & 0xffff)
                try #require(slot < depth && blockOf[slot] >= 0, "unknown or doubled completion \(event.userData)")
                let start = blockOf[slot] * block
                let bytes = UnsafeRawBufferPointer(start: buffers + slot * block, count: block)
                if event.result != Int64(block)
                    || bytes[0] != patternByte(at: start) || bytes[block - 1] != patternByte(at: start + block - 1)
                    || bytes[block / 2] != patternByte(at: start + block / 2)
                {
                    wrong += 1
                }
                blockOf[slot] = -1
                freeSlots.append(slot)
                completed += 1
            }
        }
        #expect(wrong == 0)
        #expect(completed == total)
        #expect(blockOf.allSatisfy { $0 == -1 })
        #expect(reaper.counters.completions == total)
        #expect(reaper.counters.userSpaceCompletions > 0)
        _ = owned
    }
}

/// The 32-bit words of an AIO ring header, for tests that corrupt it.
struct RingHeader: @unchecked Sendable {
    let words: UnsafeMutablePointer<UInt32>

    init(_ address: UInt) {
        words = UnsafeMutablePointer(bitPattern: address)!
    }

    subscript(index: Int) -> UInt32 {
        get { words[index] }
        nonmutating set { words[index] = newValue }
    }
}
