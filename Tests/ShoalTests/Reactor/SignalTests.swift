import ShoalTestSupport
import Testing

@testable import Shoal

@Suite("Signals: a timed wait ends near its deadline however many signals arrive")
struct SignalTests {
    @Test("a 50 ms sleep under a signal every 5 ms ends while the signals still arrive, never early")
    func sleepUnderSignals() async throws {
        let (sent, limit, early) = try await runReactor { reactor -> (Int, Int, Bool) in
            try await reactor.sleep(for: .milliseconds(1))  // the first submissions are done
            // Signals go to the reactor thread, which blocks in io_getevents meanwhile.
            let signals = SignalPesterer(everyMicroseconds: 5_000, limit: 400)
            let deadline = Reactor.Instant.now.advanced(by: .milliseconds(50))
            try await reactor.sleep(until: deadline)
            let early = Reactor.Instant.now < deadline
            let sent = signals.signalsSent
            signals.finish()
            return (sent, signals.limit, early)
        }
        #expect(!early)
        #expect(sent >= 2, "the wait was not interrupted: \(sent) signals")
        #expect(sent < limit, "the sleep outlasted \(sent) signals")
    }
}
