import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Timers: order, never early, thousands, cancellation, timeouts")
struct TimerTests {
    @Test("thousands of scheduled closures fire in deadline order, ties in scheduling order, never early")
    func scheduledClosures() async throws {
        let fired = try await runReactor { reactor -> [(deadline: UInt64, at: UInt64, id: Int)] in
            let log = Shared<[(deadline: UInt64, at: UInt64, id: Int)]>([])
            let start = Reactor.Instant.now
            for id in 0..<3_000 {
                // Many equal deadlines (41 distinct values) to exercise the tie order.
                let deadline = start.advanced(by: .milliseconds(Int.random(in: 0...40)))
                reactor.schedule(at: deadline) {
                    log.update { $0.append((deadline.nanoseconds, Reactor.Instant.now.nanoseconds, id)) }
                }
            }
            try await reactor.sleep(for: .milliseconds(60))
            return log.value
        }
        #expect(fired.count == 3_000)
        let early = fired.filter { $0.at < $0.deadline }.count
        #expect(early == 0, "\(early) timers fired early")
        let firstOutOfOrder = fired.indices.dropLast().first { position in
            (fired[position].deadline, fired[position].id) > (fired[position + 1].deadline, fired[position + 1].id)
        }
        #expect(firstOutOfOrder == nil, "timer order broken at position \(firstOutOfOrder ?? -1)")
    }

    @Test("a thousand sleeping tasks all wake, none early, on the reactor thread")
    func manySleepers() async throws {
        let results = try await runReactor { reactor -> [Bool] in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<1_000 {
                    group.addTask {
                        let deadline = Reactor.Instant.now.advanced(by: .microseconds(index * 37 % 20_000))
                        try await reactor.sleep(until: deadline)
                        return Reactor.Instant.now >= deadline && reactor.isOnReactorThread
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(results.count == 1_000)
        #expect(results.allSatisfy { $0 })
    }

    @Test("a cancelled sleep resumes at once with CancellationError and leaves no timer")
    func cancelSleep() async throws {
        let (error, pending) = try await runReactor { reactor -> (String, Int) in
            let sleeper = reactor.spawn { try await reactor.sleep(for: .seconds(3_600)) }
            try await reactor.sleep(for: .milliseconds(5))
            sleeper.cancel()
            let outcome = await sleeper.result
            guard case .failure(let error) = outcome else { return ("no error", reactor.pendingTimers) }
            return ("\(type(of: error))", reactor.pendingTimers)
        }
        #expect(error == "CancellationError")
        #expect(pending == 0)
    }

    @Test("a sleep cancelled from another thread resumes with CancellationError")
    func cancelSleepFromAnotherThread() async throws {
        let error = try await runReactor { reactor -> String in
            let sleeper = reactor.spawn { try await reactor.sleep(for: .seconds(3_600)) }
            let canceller = ThreadForTest {
                usleep(5_000)
                sleeper.cancel()
            }
            let outcome = await sleeper.result
            canceller.join()
            guard case .failure(let error) = outcome else { return "no error" }
            return "\(type(of: error))"
        }
        #expect(error == "CancellationError")
    }

    @Test("a sleep in an already cancelled task throws without waiting")
    func sleepWhenCancelled() async throws {
        let threw = try await runReactor { reactor -> Bool in
            let task = reactor.spawn { () async -> Bool in
                withUnsafeCurrentTask { $0?.cancel() }
                do { try await reactor.sleep(for: .seconds(3_600)) } catch { return error is CancellationError }
                return false
            }
            return try await task.value
        }
        #expect(threw)
    }

    @Test("withTimeout returns the value in time and throws TimeoutError when late")
    func withTimeout() async throws {
        let (value, late) = try await runReactor { reactor -> (Int, TimeoutError?) in
            let value = try await reactor.withTimeout(.seconds(10)) { 7 }
            do {
                _ = try await reactor.withTimeout(.milliseconds(10)) { () async throws -> Int in
                    try await reactor.sleep(for: .seconds(3_600))
                    return 0
                }
                return (value, nil)
            } catch let error as TimeoutError {
                return (value, error)
            }
        }
        #expect(value == 7)
        #expect(late?.limit == .milliseconds(10))
    }

    @Test("a cancelled scheduled closure does not run")
    func cancelScheduled() async throws {
        let (ran, cancelled, again) = try await runReactor { reactor -> (Bool, Bool, Bool) in
            let ran = Shared(false)
            let timer = reactor.schedule(after: .milliseconds(5)) { ran.value = true }
            let cancelled = reactor.cancel(timer)
            let again = reactor.cancel(timer)
            try await reactor.sleep(for: .milliseconds(20))
            return (ran.value, cancelled, again)
        }
        #expect(!ran)
        #expect(cancelled)
        #expect(!again)
    }
}
