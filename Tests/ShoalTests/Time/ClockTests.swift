import ShoalTestSupport
import Testing

@testable import Shoal

/// Generic code written against `Clock`, as libraries write it.
func sleepTwice<C: Clock>(on clock: C, for duration: C.Duration) async throws -> C.Instant.Duration {
    let start = clock.now
    try await clock.sleep(for: duration)
    try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil)
    return start.duration(to: clock.now)
}

@Suite("ReactorClock: generic Clock code on the reactor's timers")
struct ClockTests {
    @Test("generic clock code sleeps on reactor timers, on the reactor thread, never early")
    func genericSleep() async throws {
        let (elapsed, timers, onThread) = try await runReactor { reactor -> (Duration, Int, Bool) in
            let before = reactor.stats
            let elapsed = try await sleepTwice(on: reactor.clock, for: .milliseconds(5))
            return (elapsed, reactor.stats.since(before).timersFired, reactor.isOnReactorThread)
        }
        #expect(elapsed >= .milliseconds(10))
        #expect(timers == 2)
        #expect(onThread)
    }

    @Test("the clock's instants are the reactor's; its resolution is a nanosecond")
    func basics() async throws {
        let (ordered, resolution) = try await runReactor { reactor -> (Bool, Duration) in
            let a = reactor.clock.now
            let b = Reactor.Instant.now
            return (a <= b, reactor.clock.minimumResolution)
        }
        #expect(ordered)
        #expect(resolution == .nanoseconds(1))
    }

    @Test("a cancelled clock sleep resumes with CancellationError")
    func cancel() async throws {
        let outcome = try await runReactor { reactor -> String in
            let task = reactor.spawn { try await reactor.clock.sleep(for: .seconds(3_600)) }
            try await reactor.sleep(for: .milliseconds(1))
            task.cancel()
            if case .failure(let error) = await task.result { return "\(type(of: error))" }
            return "slept"
        }
        #expect(outcome == "CancellationError")
    }
}
