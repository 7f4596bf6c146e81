import Shoal
import Testing

@Suite("Reactor basics")
struct ReactorSmokeTests {
    @Test("run returns the root task's value and runs it on the reactor thread")
    func runReturnsValue() throws {
        let (value, onThread) = try runReactor { reactor in
            (42, reactor.isOnReactorThread)
        }
        #expect(value == 42)
        #expect(onThread)
    }

    @Test("run rethrows what the root task threw")
    func runRethrows() throws {
        struct Boom: Error {}
        #expect(throws: Boom.self) { try runReactor { _ in throw Boom() } }
    }

    @Test("sleep returns on the reactor thread, never early")
    func sleepSmoke() throws {
        let (early, onThread) = try runReactor { reactor in
            let deadline = Reactor.Instant.now.advanced(by: .milliseconds(30))
            try await reactor.sleep(until: deadline)
            return (Reactor.Instant.now < deadline, reactor.isOnReactorThread)
        }
        #expect(!early)
        #expect(onThread)
    }
}
