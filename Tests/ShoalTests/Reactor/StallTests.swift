import Logging
import ShoalTestSupport
import Synchronization
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// A log handler that keeps the messages it is given.
struct CapturingLogHandler: LogHandler {
    let messages: Shared<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.update { $0.append("\(event.level): \(event.message)") }
    }
}

@Suite("Stall detection: a blocked reactor thread is counted and reported")
struct StallTests {
    @Test("a 300 ms blocking call is counted, logged with its duration, and logged once")
    func blockingCallIsReported() async throws {
        let messages = Shared<[String]>([])
        var configuration = Reactor.Configuration()
        configuration.logger = Logger(label: "test") { _ in CapturingLogHandler(messages: messages) }
        let stats = try await runReactor(configuration: configuration) { reactor -> ReactorStats in
            let before = reactor.stats
            reactor.execute { usleep(300_000) }
            reactor.execute { usleep(60_000) }  // within a second of the first: counted, not logged
            try await reactor.sleep(for: .milliseconds(10))
            return reactor.stats.since(before)
        }
        let stalls = messages.value.filter { $0.contains("reactor stalled") }
        #expect(stats.stalls >= 1)
        #expect(stats.longestStallNanoseconds >= 300_000_000)
        #expect(stalls.count == 1, "\(stalls)")
        #expect(stalls.first?.hasPrefix("warning: reactor stalled: one turn of the loop held the reactor thread for 3") == true)
    }

    @Test("busy but yielding compute is not a stall; detection can be turned off")
    func noFalseStalls() async throws {
        var lenient = Reactor.Configuration()
        lenient.stallThreshold = .milliseconds(500)  // a descheduled test thread is not a stall
        let yielding = try await runReactor(configuration: lenient) { reactor -> Int in
            let before = reactor.stats
            let end = Reactor.Instant.now.advanced(by: .milliseconds(200))
            while Reactor.Instant.now < end { await reactor.yieldIfNeeded() }
            return reactor.stats.since(before).stalls
        }
        #expect(yielding == 0)
        var configuration = Reactor.Configuration()
        configuration.stallThreshold = nil
        let off = try await runReactor(configuration: configuration) { reactor -> Int in
            reactor.execute { usleep(100_000) }
            try await reactor.sleep(for: .milliseconds(1))
            return reactor.stats.stalls
        }
        #expect(off == 0)
    }
}
