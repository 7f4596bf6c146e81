import ShoalTestSupport
import Synchronization
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Blocking calls: made on the reactor's own thread for them, never on the reactor thread")
struct BlockingCallTests {
    @Test("a blocking call runs on another thread and its result comes back on the reactor thread")
    func runsElsewhere() async throws {
        let (elsewhere, back, value, count) = try await runReactor { reactor -> (Bool, Bool, Int, Int) in
            let before = reactor.stats
            let elsewhere = try await reactor.performBlocking { !reactor.isOnReactorThread }
            let value = try await reactor.performBlocking { () -> Int in
                usleep(20_000)  // blocks that thread, not the reactor
                return 42
            }
            return (elsewhere, reactor.isOnReactorThread, value, reactor.stats.since(before).blockingCalls)
        }
        #expect(elsewhere)
        #expect(back)
        #expect(value == 42)
        #expect(count == 2)
    }

    @Test("errors come back; calls run in order; a queued call can be cancelled")
    func errorsOrderCancellation() async throws {
        struct Failure: Error {}
        let (error, order, cancelled) = try await runReactor { reactor -> (String, [Int], String) in
            var message = "none"
            do { _ = try await reactor.performBlocking { () throws -> Int in throw Failure() } } catch {
                message = "\(type(of: error))"
            }
            let order = Shared<[Int]>([])
            // One long call holds the thread; the calls behind it wait in order.
            let first = reactor.spawn {
                try await reactor.performBlocking {
                    usleep(50_000)
                    order.update { $0.append(0) }
                }
            }
            let queued = (1...3).map { index in
                reactor.spawn { try await reactor.performBlocking { order.update { $0.append(index) } } }
            }
            let victim = reactor.spawn { try await reactor.performBlocking { order.update { $0.append(99) } } }
            try await reactor.sleep(for: .milliseconds(5))
            victim.cancel()
            try await first.value
            for task in queued { try await task.value }
            var cancelled = "ran"
            if case .failure(let error) = await victim.result { cancelled = "\(type(of: error))" }
            return (message, order.value, cancelled)
        }
        #expect(error == "Failure")
        #expect(order == [0, 1, 2, 3])
        #expect(cancelled == "CancellationError")
    }

    @Test("past the queue's bound, callers wait for room; all finish; the reactor keeps running meanwhile")
    func boundedQueue() async throws {
        let (done, ticked) = try await runReactor { reactor -> (Int, Bool) in
            let count = Reactor.maximumBlockingCalls * 2
            let ticksBefore = reactor.stats.ticks
            let tasks = (0..<count).map { _ in reactor.spawn { try await reactor.performBlocking { _ = usleep(200) } } }
            try await reactor.sleep(for: .milliseconds(1))
            let ticked = reactor.stats.ticks > ticksBefore
            for task in tasks { try await task.value }
            return (count, ticked)
        }
        #expect(done == Reactor.maximumBlockingCalls * 2)
        #expect(ticked)
    }

    @Test("shutdown waits for blocking calls in flight")
    func shutdownWaits() async throws {
        let finished = Shared(false)
        try await runReactor { reactor in
            reactor.spawn {
                try await reactor.performBlocking { _ = usleep(50_000) }
                finished.value = true
            }
            try await reactor.sleep(for: .milliseconds(1))
        }
        #expect(finished.value)
    }
}
