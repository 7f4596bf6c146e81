import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Reserved slots: a context full of user requests never keeps out the reactor's own polls")
struct ReservedSlotsTests {
    @Test("with every slot taken by requests that never complete, other threads still wake the reactor at once")
    func wakeupsWithAFullContext() async throws {
        var configuration = Reactor.Configuration()
        configuration.maximumIOInFlight = 2
        let ends = TestPipe()
        defer { ends.close() }
        let (late, inKernel, queued) = try await runReactor(configuration: configuration) { reactor -> (Int, Int, Int) in
            // Polls on a pipe nobody writes: they fill the context and stay there.
            let polls = (0..<64).map { _ in
                reactor.spawn { try await reactor.perform(.poll(descriptor: ends.read, events: Int32(POLLIN), userData: 0)) }
            }
            try await reactor.sleep(for: .milliseconds(5))
            let inKernel = reactor.userRequestsInKernel
            let queued = reactor.submissionQueue.count
            var late = 0
            // Each round consumes the wake-up poll, which must be re-armed in a reserved slot.
            for _ in 0..<3 {
                let timer = reactor.schedule(after: .seconds(2)) {}
                let posted = Shared(Reactor.Instant.now)
                let ranAfter = await withCheckedContinuation { (continuation: CheckedContinuation<Duration, Never>) in
                    startDetachedThread {
                        usleep(10_000)  // the reactor is asleep by now
                        posted.value = .now
                        _ = reactor.execute { continuation.resume(returning: posted.value.duration(to: .now)) }
                    }
                }
                // Lost, it would run only when the 2 s timer wakes the reactor.
                if ranAfter >= .seconds(1) { late += 1 }
                reactor.cancel(timer)
            }
            for poll in polls { poll.cancel() }
            return (late, inKernel, queued)
        }
        #expect(inKernel == 2)
        #expect(queued == 62)
        #expect(late == 0)
    }

    @Test("with a full context, socket readiness still reaches a waiting task")
    func readinessWithAFullContext() async throws {
        var configuration = Reactor.Configuration()
        configuration.maximumIOInFlight = 1
        let quiet = TestPipe()
        let loud = TestPipe()
        defer {
            quiet.close()
            loud.close()
        }
        let woke = try await runReactor(configuration: configuration) { reactor -> Int in
            let polls = (0..<16).map { _ in
                reactor.spawn { try await reactor.perform(.poll(descriptor: quiet.read, events: Int32(POLLIN), userData: 0)) }
            }
            let registration = try reactor.register(loud.read)
            var woke = 0
            for _ in 0..<3 {
                let writer = ThreadForTest {
                    usleep(10_000)
                    loud.poke()
                }
                try await reactor.withTimeout(.seconds(2)) { try await reactor.wait(for: .readable, on: registration) }
                writer.join()
                _ = loud.take()
                woke += 1
            }
            reactor.deregister(registration)
            for poll in polls { poll.cancel() }
            return woke
        }
        #expect(woke == 3)
    }
}
