import ShoalKernel
import ShoalTestSupport
import Synchronization
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Shutdown: what happens to pending work when the root task returns")
struct ShutdownTests {
    @Test("sleepers and readiness waiters resume with CancellationError; run returns")
    func pendingWaitsAreCancelled() async throws {
        let sleeperError = Shared("none")
        let waiterError = Shared("none")
        let ends = TestPipe()
        defer { ends.close() }
        try await runReactor { reactor in
            reactor.spawn {
                do { try await reactor.sleep(for: .seconds(3_600)) } catch { sleeperError.value = "\(type(of: error))" }
            }
            let registration = try reactor.register(ends.read)
            reactor.spawn {
                do { try await reactor.wait(for: .readable, on: registration) } catch { waiterError.value = "\(type(of: error))" }
            }
            try await reactor.sleep(for: .milliseconds(5))
        }
        #expect(sleeperError.value == "CancellationError")
        #expect(waiterError.value == "CancellationError")
    }

    @Test("isShuttingDown turns true when the root task returns; a loop that checks it ends the shutdown early")
    func loopEndsWithShutdown() async throws {
        var configuration = Reactor.Configuration()
        configuration.shutdownGracePeriod = .seconds(60)
        let (before, iterations) = try await runReactor(configuration: configuration) { reactor -> (Bool, Shared<Int>) in
            let iterations = Shared(0)
            reactor.spawn {
                while !reactor.isShuttingDown {
                    try? await reactor.sleep(for: .milliseconds(5))
                    iterations.update { $0 += 1 }
                }
            }
            try await reactor.sleep(for: .milliseconds(30))
            return (reactor.isShuttingDown, iterations)
        }
        #expect(!before)
        // The loop saw the flag after its cancelled sleep: run returned long before 60 s.
        #expect(iterations.value >= 1)
    }

    @Test("a sleep started during shutdown sleeps its time, and shutdown waits for it")
    func sleepDuringShutdown() async throws {
        let outcome = Shared("none")
        try await runReactor { reactor in
            reactor.spawn {
                do { try await reactor.sleep(for: .seconds(3_600)) } catch {}
                // Shutdown has begun: a short sleep still works (a retry's back-off, say).
                let start = Reactor.Instant.now
                do {
                    try await reactor.sleep(for: .milliseconds(20))
                    outcome.value = start.duration(to: .now) >= .milliseconds(20) ? "slept" : "early"
                } catch {
                    outcome.value = "\(type(of: error))"
                }
            }
            try await reactor.sleep(for: .milliseconds(2))
        }
        #expect(outcome.value == "slept")
    }

    @Test("a readiness wait or an AIO poll started during shutdown fails at once and does not hold it")
    func waitsDuringShutdownAreRefused() async throws {
        var configuration = Reactor.Configuration()
        configuration.shutdownGracePeriod = .seconds(60)
        let outcomes = Shared<[String]>([])
        let ends = TestPipe()
        defer { ends.close() }
        let elapsed = try timedReactorRun(configuration: configuration) { reactor in
            let registration = try reactor.register(ends.read)
            reactor.spawn {
                do { try await reactor.sleep(for: .seconds(3_600)) } catch {}
                do { try await reactor.wait(for: .readable, on: registration) } catch {
                    outcomes.update { $0.append("wait: \(type(of: error))") }
                }
                do { _ = try await reactor.perform(.poll(descriptor: ends.read, events: Int32(POLLIN), userData: 0)) } catch {
                    outcomes.update { $0.append("poll: \(type(of: error))") }
                }
            }
            try await reactor.sleep(for: .milliseconds(2))
        }
        #expect(outcomes.value == ["wait: CancellationError", "poll: CancellationError"])
        // Not held for the 60 s grace period (a liveness bound, not a measurement).
        #expect(elapsed < .seconds(30))
    }

    @Test("a readiness wait during shutdown fails even when an edge is latched")
    func latchedEdgeDuringShutdown() async throws {
        let ends = TestPipe()
        defer { ends.close() }
        let outcome = Shared("none")
        try await runReactor { reactor in
            let registration = try reactor.register(ends.read)
            ends.poke()
            try await reactor.sleep(for: .milliseconds(10))  // the edge is latched by now
            reactor.spawn {
                try? await reactor.sleep(for: .milliseconds(5))  // cancelled: shutdown has begun
                do {
                    try await reactor.wait(for: .readable, on: registration)
                    outcome.value = "returned"
                } catch {
                    outcome.value = "\(type(of: error))"
                }
            }
        }
        #expect(outcome.value == "CancellationError")
    }

    @Test("withTimeout during shutdown bounds a last flush instead of failing at once")
    func timeoutDuringShutdown() async throws {
        let path = try scratchPath("shutdown-timeout")
        defer { unlink(path) }
        try writePatternFile(path, size: 4_096)
        let outcome = Shared("none")
        try await runReactor { reactor in
            let owned = try openForReading(path)
            let fd = owned.release()
            reactor.spawn {
                do { try await reactor.sleep(for: .seconds(3_600)) } catch {}
                do {
                    let count = try await reactor.withTimeout(.seconds(5)) {
                        try await reactor.read(from: fd, at: 0, into: IOBuffer(capacity: 4_096)).count
                    }
                    outcome.value = "read \(count)"
                } catch {
                    outcome.value = "\(error)"
                }
                try? fd.close()
            }
            try await reactor.sleep(for: .milliseconds(2))
        }
        #expect(outcome.value == "read 4096")
    }

    @Test("AIO requests in flight at shutdown complete with their real result")
    func inFlightIOCompletes() async throws {
        let path = try scratchPath("shutdown-read")
        defer { unlink(path) }
        try writePatternFile(path, size: 1 << 20)
        let result = Shared(0)
        try await runReactor { reactor in
            let fd = try FileCalls.open(FilePath(path), options: .readOnly).release()
            reactor.spawn {
                result.value = try await reactor.read(from: fd, at: 0, into: IOBuffer(capacity: 1 << 20)).count
                try? fd.close()
            }
            // Return at once: the read is queued or in flight as shutdown begins.
        }
        #expect(result.value == 1 << 20)
    }

    @Test("a task that never finishes does not hold shutdown past the grace period")
    func gracePeriod() async throws {
        var configuration = Reactor.Configuration()
        configuration.shutdownGracePeriod = .milliseconds(50)
        let spins = Shared(0)
        let movedOff = Shared(false)
        try await runReactor(configuration: configuration) { reactor in
            reactor.spawn {
                // Ignores cancellation and keeps yielding: only the grace period ends the
                // reactor's part. Its later jobs run on the stopped reactor's queue; it ends
                // there, so it cannot hold a thread of the test's pool.
                while spins.value < 10_000_000 {
                    spins.update { $0 += 1 }
                    await Task.yield()
                    if !reactor.isOnReactorThread {
                        movedOff.value = true
                        return
                    }
                }
            }
            try await reactor.sleep(for: .milliseconds(1))
        }
        #expect(spins.value < 10_000_000)
        // The loop ended with the task still running: the grace period, not the task, ended it.
        for _ in 0..<1_000 where !movedOff.value { try await Task.sleep(for: .milliseconds(5)) }
        #expect(movedOff.value)
    }

    @Test("a sleep still pending when the grace period ends resumes with CancellationError")
    func sleepPastGracePeriod() async throws {
        var configuration = Reactor.Configuration()
        configuration.shutdownGracePeriod = .milliseconds(20)
        let outcome = Shared("none")
        try await runReactor(configuration: configuration) { reactor in
            reactor.spawn {
                do { try await reactor.sleep(for: .seconds(3_600)) } catch {}
                do {
                    try await reactor.sleep(for: .seconds(3_600))
                    outcome.value = "slept"
                } catch {
                    outcome.value = "\(type(of: error))"
                }
            }
            try await reactor.sleep(for: .milliseconds(1))
        }
        for _ in 0..<500 where outcome.value == "none" { try await Task.sleep(for: .milliseconds(10)) }
        #expect(outcome.value == "CancellationError")
    }
}
