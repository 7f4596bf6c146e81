import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// Busy-waits `microseconds` of wall time: a slice of compute that no stall can shorten.
private func spin(microseconds: UInt64) {
    let end = Reactor.Instant.now.nanoseconds + microseconds * 1_000
    while Reactor.Instant.now.nanoseconds < end {}
}

@Suite("Task quota: a flood of compute lets timers and I/O through")
struct QuotaTests {
    /// Two tasks compute in 100 µs slices and call `yieldIfNeeded()` after each. With the
    /// default 0.5 ms quota at most 5 slices fit in a tick (more cannot: each slice takes
    /// at least 100 µs of real time), so the counts below bound the delay in quotas.
    @Test("a due timer fires, and a completed AIO request is reaped, within about one quota")
    func floodLetsTimerAndIOThrough() async throws {
        let result = try await runReactor { reactor -> (timer: Int, reap: Int, sleeper: Int, ioTask: Int, yields: Int) in
            let slices = Shared(0)
            let stop = Shared(false)
            // One instant for the timer, the sleeper and the flood's mark: a preemption
            // between two separate `now` readings would shift the deadlines apart.
            let deadline = Reactor.Instant.now.advanced(by: .milliseconds(20))
            let timerDeadline = deadline.nanoseconds
            let slicesAtTimerDeadline = Shared(-1)
            let slicesAtTimerFired = Shared(-1)
            let slicesAtSleeperWoke = Shared(-1)
            reactor.schedule(at: deadline) { slicesAtTimerFired.value = slices.value }
            let sleeper = reactor.spawn {
                try await reactor.sleep(until: deadline)
                slicesAtSleeperWoke.value = slices.value
            }

            let event = try EventFD()
            let eventFD = event.descriptor.descriptor
            let slicesAtSignal = Shared(-1)
            let slicesAtReaped = Shared(-1)
            let slicesAtIOTaskRan = Shared(-1)
            let ioWaiter = reactor.spawn {
                _ = try await reactor.perform(.poll(descriptor: eventFD, events: Int32(POLLIN), userData: 0))
                slicesAtIOTaskRan.value = slices.value
            }

            let before = reactor.stats
            let flood = (0..<2).map { _ in
                reactor.spawn {
                    while !stop.value && slices.value < 3_000 {
                        spin(microseconds: 100)
                        let done = slices.update {
                            $0 += 1
                            return $0
                        }
                        if Reactor.Instant.now.nanoseconds >= timerDeadline && slicesAtTimerDeadline.value < 0 {
                            slicesAtTimerDeadline.value = done
                        }
                        let signalNow =
                            done >= 300
                            && slicesAtSignal.update { mark in
                                guard mark < 0 else { return false }
                                mark = done
                                return true
                            }
                        if signalNow {
                            var one: UInt64 = 1
                            _ = write(eventFD.rawValue, &one, 8)
                        }
                        if slicesAtSignal.value >= 0 && slicesAtReaped.value < 0 && reactor.stats.completions > before.completions {
                            slicesAtReaped.value = done
                        }
                        if slicesAtSleeperWoke.value >= 0 && slicesAtIOTaskRan.value >= 0 { stop.value = true }
                        await reactor.yieldIfNeeded()
                    }
                }
            }
            for task in flood { try await task.value }
            try await sleeper.value
            try await ioWaiter.value
            _ = event
            return (
                slicesAtTimerFired.value - slicesAtTimerDeadline.value,
                slicesAtReaped.value - slicesAtSignal.value,
                slicesAtSleeperWoke.value - slicesAtTimerDeadline.value,
                slicesAtIOTaskRan.value - slicesAtSignal.value,
                reactor.stats.since(before).quotaYields
            )
        }
        // Fired or reaped in the tick in which it became due: within one quota (5 slices, +1).
        #expect(result.timer <= 6, "timer fired \(result.timer) slices after its deadline")
        #expect(result.reap <= 6, "completion reaped \(result.reap) slices after it was posted")
        // The resumed tasks queue behind the two compute tasks: within three quotas.
        #expect(result.sleeper <= 18, "sleeper ran \(result.sleeper) slices after its deadline")
        #expect(result.ioTask <= 18, "I/O waiter ran \(result.ioTask) slices after the signal")
        #expect(result.yields > 0)
    }

    @Test("yieldIfNeeded does not yield before the quota is spent")
    func noEarlyYield() async throws {
        var configuration = Reactor.Configuration()
        configuration.taskQuota = .seconds(10)
        let yields = try await runReactor(configuration: configuration) { reactor -> Int in
            let before = reactor.stats
            for _ in 0..<10_000 { await reactor.yieldIfNeeded() }
            return reactor.stats.since(before).quotaYields
        }
        #expect(yields == 0)
    }
}
