import Shoal
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Shutdown: what happens to pending work when the root task returns")
struct ShutdownTests {
    @Test("sleepers and readiness waiters resume with CancellationError; run returns")
    func pendingWaitsAreCancelled() async throws {
        let sleeperError = Shared("none")
        let waiterError = Shared("none")
        let ends = nonBlockingPipe()
        defer { close(ends.read); close(ends.write) }
        let readEnd = ends.read
        try await runReactor { reactor in
            reactor.spawn {
                do { try await reactor.sleep(for: .seconds(3_600)) } catch { sleeperError.value = "\(type(of: error))" }
            }
            let registration = try reactor.register(readEnd)
            reactor.spawn {
                do { try await reactor.wait(for: .readable, on: registration) } catch { waiterError.value = "\(type(of: error))" }
            }
            try await reactor.sleep(for: .milliseconds(5))
        }
        #expect(sleeperError.value == "CancellationError")
        #expect(waiterError.value == "CancellationError")
    }

    @Test("a sleep started during shutdown fails at once")
    func sleepDuringShutdown() async throws {
        let outcome = Shared("none")
        try await runReactor { reactor in
            reactor.spawn {
                do { try await reactor.sleep(for: .seconds(3_600)) } catch {}
                // Shutdown has begun: a new sleep must not wait an hour.
                do { try await reactor.sleep(for: .seconds(3_600)); outcome.value = "slept" } catch {
                    outcome.value = "\(type(of: error))"
                }
            }
            try await reactor.sleep(for: .milliseconds(2))
        }
        #expect(outcome.value == "CancellationError")
    }

    @Test("AIO requests in flight at shutdown complete with their real result")
    func inFlightIOCompletes() async throws {
        let path = try scratchPath("shutdown-read")
        defer { unlink(path) }
        try writePatternFile(path, size: 1 << 20)
        let result = Shared<Int64>(0)
        try await runReactor { reactor in
            let fd = try FileCalls.open(path, options: .readOnly)
            let raw = fd.release()
            reactor.spawn {
                let buffer = AlignedBuffer(count: 1 << 20)
                result.value = try await reactor.perform(
                    .read(descriptor: raw, into: buffer.pointer, count: 1 << 20, offset: 0, userData: 0), keepingAlive: buffer)
                close(raw)
            }
            // Return at once: the read is queued or in flight as shutdown begins.
        }
        #expect(result.value == 1 << 20)
    }

    @Test("after run returns, execute is refused and a late job runs on the global executor")
    func afterStop() async throws {
        let parked = Shared<CheckedContinuation<Void, Never>?>(nil)
        let lateResult = Shared<Bool?>(nil)
        let reactorBox = Shared<Reactor?>(nil)
        try await runReactor { reactor in
            reactorBox.value = reactor
            reactor.spawn {
                await withCheckedContinuation { parked.value = $0 }
                lateResult.value = reactor.isOnReactorThread
            }
            try await reactor.sleep(for: .milliseconds(2))
        }
        let reactor = try #require(reactorBox.value)
        #expect(reactor.execute {} == false)
        // Resume the parked task now that the loop is gone: it must still finish.
        parked.value?.resume()
        for _ in 0..<500 where lateResult.value == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(lateResult.value == false)
        // The refused closure and the forwarded job.
        #expect(reactor.stats.arrivedAfterStop == 2)
    }

    @Test("a task that never finishes does not hold shutdown past the grace period")
    func gracePeriod() async throws {
        var configuration = Reactor.Configuration()
        configuration.shutdownGracePeriod = .milliseconds(50)
        let spins = Shared(0)
        try await runReactor(configuration: configuration) { reactor in
            reactor.spawn {
                // Ignores cancellation and keeps yielding: only the grace period ends it.
                while spins.value < 10_000_000 {
                    spins.update { $0 += 1 }
                    await Task.yield()
                }
            }
            try await reactor.sleep(for: .milliseconds(1))
        }
        #expect(spins.value < 10_000_000)
    }
}
