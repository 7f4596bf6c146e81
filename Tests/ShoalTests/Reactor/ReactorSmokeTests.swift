import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

@Suite("Reactor basics")
struct ReactorSmokeTests {
    @Test("run returns the root task's value and runs it on the reactor thread")
    func runReturnsValue() async throws {
        let (value, onThread) = try await runReactor { reactor in
            (42, reactor.isOnReactorThread)
        }
        #expect(value == 42)
        #expect(onThread)
    }

    @Test("run rethrows what the root task threw")
    func runRethrows() async throws {
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await runReactor { _ in throw Boom() } }
    }

    @Test("sleep returns on the reactor thread, never early")
    func sleepSmoke() async throws {
        let (early, onThread) = try await runReactor { reactor in
            let deadline = Reactor.Instant.now.advanced(by: .milliseconds(30))
            try await reactor.sleep(until: deadline)
            return (Reactor.Instant.now < deadline, reactor.isOnReactorThread)
        }
        #expect(!early)
        #expect(onThread)
    }
}
