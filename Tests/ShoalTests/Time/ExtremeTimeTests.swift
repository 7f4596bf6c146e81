import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Extreme times: every duration and instant is accepted, none traps")
struct ExtremeTimeTests {
    @Test("a closure scheduled at the end of time never fires, and the reactor still sleeps and wakes")
    func scheduleAtTheEndOfTime() async throws {
        let (fired, pending) = try await runReactor { reactor -> (Bool, Int) in
            let fired = Shared(false)
            reactor.schedule(at: Reactor.Instant(nanoseconds: .max)) { fired.value = true }
            reactor.schedule(after: .seconds(Int64.max)) { fired.value = true }
            // The blocking step computes its timeout from that deadline: it must sleep
            // (no timer is due) until another thread wakes it.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                startDetachedThread {
                    usleep(20_000)
                    reactor.execute { continuation.resume() }
                }
            }
            return (fired.value, reactor.pendingTimers)
        }
        #expect(!fired)
        #expect(pending == 2)
    }

    @Test("sleeps until far instants, or for the longest durations, wait until cancelled")
    func farSleeps() async throws {
        let outcomes = try await runReactor { reactor -> [String] in
            var outcomes: [String] = []
            for sleep in [
                { try await reactor.sleep(until: Reactor.Instant(nanoseconds: .max)) },
                { try await reactor.sleep(until: .now.advanced(by: .seconds(Int64.max))) },
                { try await reactor.sleep(for: .seconds(Int64.max)) },
                { try await reactor.sleep(for: .nanoseconds(Int64.max)) },
                { try await reactor.clock.sleep(for: .seconds(Int64.max)) },
            ] as [@Sendable () async throws -> Void] {
                let task = reactor.spawn { try await sleep() }
                try await reactor.sleep(for: .milliseconds(2))
                task.cancel()
                switch await task.result {
                case .success: outcomes.append("returned")
                case .failure(let error): outcomes.append("\(type(of: error))")
                }
            }
            return outcomes
        }
        #expect(outcomes == Array(repeating: "CancellationError", count: 5))
    }

    @Test("negative durations are zero: the sleep returns at the next turn of the loop")
    func negativeSleeps() async throws {
        let done = try await runReactor { reactor -> Int in
            var done = 0
            for duration in [Duration.seconds(-1), .nanoseconds(Int64.min), .seconds(Int64.min)] {
                try await reactor.sleep(for: duration)
                done += 1
            }
            try await reactor.sleep(until: Reactor.Instant(nanoseconds: 0))
            return done + 1
        }
        #expect(done == 4)
    }

    @Test("instants clamp at both ends of the clock")
    func instantArithmetic() {
        let now = Reactor.Instant.now
        #expect(now.advanced(by: .seconds(Int64.max)).nanoseconds == .max)
        #expect(now.advanced(by: .seconds(Int64.min)).nanoseconds == 0)
        #expect(Reactor.Instant(nanoseconds: .max).advanced(by: .nanoseconds(1)).nanoseconds == .max)
        #expect(Reactor.Instant(nanoseconds: 0).duration(to: Reactor.Instant(nanoseconds: .max)) == .nanoseconds(Int64.max))
        #expect(Reactor.Instant(nanoseconds: .max).duration(to: Reactor.Instant(nanoseconds: 0)) == .nanoseconds(-Int64.max))
    }

    @Test("withTimeout with the longest limits returns the value")
    func farTimeouts() async throws {
        let values = try await runReactor { reactor -> [Int] in
            var values: [Int] = []
            for limit in [Duration.seconds(Int64.max), .nanoseconds(Int64.max)] {
                values.append(try await reactor.withTimeout(limit) { 7 })
            }
            // A negative limit expires at once; which finishes first is a race.
            do { values.append(try await reactor.withTimeout(.seconds(-1)) { 8 }) } catch is TimeoutError {
                values.append(-1)
            }
            return values
        }
        #expect(values == [7, 7, 8] || values == [7, 7, -1])
    }

    @Test("huge and negative configuration durations run: quota, grace period, stall threshold")
    func extremeConfiguration() async throws {
        for duration in [Duration.seconds(Int64.max), .nanoseconds(Int64.max), .seconds(-5), .zero] {
            var configuration = Reactor.Configuration()
            configuration.taskQuota = duration
            configuration.shutdownGracePeriod = duration
            configuration.stallThreshold = duration
            let value = try await runReactor(configuration: configuration) { reactor -> Int in
                try await reactor.sleep(for: .milliseconds(1))
                await reactor.yieldIfNeeded()
                return 1
            }
            #expect(value == 1, "\(duration)")
        }
    }
}
