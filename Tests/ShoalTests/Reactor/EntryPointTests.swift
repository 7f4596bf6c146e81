import Foundation
import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@MainActor
private var mainActorCounter = 0

@Suite("Entry points: the async run gets a thread of its own")
struct EntryPointTests {
    @Test("try await Reactor.run runs the loop on a new thread named shoal-reactor, and returns its value")
    func asyncRun() async throws {
        let callerThread = pthread_self()
        let (name, separate) = try await Reactor.run { reactor -> (String, Bool) in
            let name = try String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return (name, pthread_equal(pthread_self(), callerThread) == 0 && reactor.isOnReactorThread)
        }
        #expect(name == "shoal-reactor")
        #expect(separate)
    }

    @Test("main-actor code runs from inside the reactor when it was started from the main actor")
    @MainActor
    func mainActorFromReactor() async throws {
        mainActorCounter = 0
        let seen = try await Reactor.run { reactor -> Int in
            // The main actor is free: the caller suspended instead of blocking it.
            await MainActor.run { mainActorCounter += 1 }
            try await reactor.sleep(for: .milliseconds(1))
            return await MainActor.run { mainActorCounter }
        }
        #expect(seen == 1)
    }

    @Test("cancelling the caller cancels the root task")
    func cancellationReachesTheRoot() async throws {
        let started = Shared(false)
        let caller = Task {
            try await Reactor.run { reactor -> String in
                started.value = true
                do {
                    try await reactor.sleep(for: .seconds(3_600))
                    return "slept"
                } catch {
                    return "\(type(of: error))"
                }
            }
        }
        while !started.value { try await Task.sleep(for: .milliseconds(1)) }
        caller.cancel()
        #expect(try await caller.value == "CancellationError")
    }

    @Test("a caller cancelled before the reactor starts gives a root task that starts cancelled")
    func cancelledBeforeStart() async throws {
        let caller = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await Reactor.run { _ in Task.isCancelled }
        }
        #expect(try await caller.value)
    }

    @Test("a configuration error is thrown by the async run too")
    func asyncRunConfigurationError() async {
        var configuration = Reactor.Configuration()
        configuration.maximumIOInFlight = 0
        await #expect(throws: ReactorError.self) { try await Reactor.run(configuration: configuration) { _ in } }
    }
}
