import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Reactor as executor: every kind of await comes back to the reactor thread")
struct ReactorExecutorTests {
    @Test("thread identity before and after every kind of await")
    func threadIdentity() async throws {
        let seen = try await runReactor { reactor -> [String: Bool] in
            var seen: [String: Bool] = ["root": reactor.isOnReactorThread]

            try await reactor.sleep(for: .milliseconds(1))
            seen["after sleep"] = reactor.isOnReactorThread

            await withCheckedContinuation { continuation in reactor.execute { continuation.resume() } }
            seen["after a continuation resumed by the reactor"] = reactor.isOnReactorThread

            var resumer: ThreadForTest?
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                resumer = ThreadForTest { continuation.resume() }
            }
            resumer?.join()
            seen["after a continuation resumed from another thread"] = reactor.isOnReactorThread

            let counter = PinnedCounter(reactor: reactor)
            let inActor = try await counter.incrementAndSleep()
            seen["in a pinned actor"] = inActor.before
            seen["in a pinned actor after its own await"] = inActor.after
            seen["after a call into a pinned actor"] = reactor.isOnReactorThread

            async let child: Bool = {
                try await reactor.sleep(for: .milliseconds(1))
                return reactor.isOnReactorThread
            }()
            seen["in an async let child"] = try await child
            seen["after async let"] = reactor.isOnReactorThread

            let children = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await reactor.sleep(for: .milliseconds(1))
                        return reactor.isOnReactorThread
                    }
                }
                return try await group.reduce(true) { $0 && $1 }
            }
            seen["in task group children"] = children
            seen["after a task group"] = reactor.isOnReactorThread

            seen["in a nonisolated async function"] = await nonisolatedProbe(reactor)
            seen["after a nonisolated async function"] = reactor.isOnReactorThread

            await Task.yield()
            seen["after Task.yield"] = reactor.isOnReactorThread

            seen["in a spawned task"] = try await reactor.spawn { reactor.isOnReactorThread }.value
            seen["after awaiting a spawned task"] = reactor.isOnReactorThread

            let event = try EventFD(initialValue: 1)
            let mask = try await reactor.perform(.poll(descriptor: event.descriptor.descriptor, events: Int32(POLLIN), userData: 0))
            seen["after an AIO completion"] = reactor.isOnReactorThread && mask & Int64(POLLIN) != 0

            let ends = TestPipe()
            let registration = try reactor.register(ends.read)
            let poke = ThreadForTest {
                usleep(2_000)
                ends.poke()
            }
            try await reactor.wait(for: .readable, on: registration)
            poke.join()
            seen["after a readiness wait"] = reactor.isOnReactorThread
            reactor.deregister(registration)
            ends.close()

            let value = try await reactor.withTimeout(.seconds(5)) { reactor.isOnReactorThread }
            seen["inside withTimeout"] = value
            seen["after withTimeout"] = reactor.isOnReactorThread

            seen["assumeIsolated from a reactor closure"] = await withCheckedContinuation { continuation in
                reactor.execute {
                    let count = counter.assumeIsolated { $0.count }
                    continuation.resume(returning: count == 1)
                }
            }
            return seen
        }
        #expect(seen.count == 21)
        for (name, onReactor) in seen.sorted(by: { $0.key < $1.key }) {
            #expect(onReactor, "\(name)")
        }
    }

    @Test("closures and tasks run in FIFO order")
    func fifoOrder() async throws {
        let order = try await runReactor { reactor -> [Int] in
            let log = Shared<[Int]>([])
            for index in 0..<50 {
                reactor.execute { log.update { $0.append(index) } }
                reactor.spawn { log.update { $0.append(1_000 + index) } }
            }
            try await reactor.sleep(for: .milliseconds(5))
            return log.value
        }
        #expect(order == (0..<50).flatMap { [$0, 1_000 + $0] })
    }

    @Test("a closure from another thread wakes a sleeping reactor, with one eventfd write")
    func remoteClosureWakesReactor() async throws {
        let (ran, stats) = try await runReactor { reactor -> (Bool, ReactorStats) in
            let before = reactor.stats
            var sender: ThreadForTest?
            let ran = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                sender = ThreadForTest {
                    usleep(20_000)  // let the reactor go to sleep first
                    reactor.execute { continuation.resume(returning: reactor.isOnReactorThread) }
                }
            }
            sender?.join()
            return (ran, reactor.stats.since(before))
        }
        #expect(ran)
        #expect(stats.eventfdWrites <= 1)
        #expect(stats.remoteEnqueues >= 1)
        #expect(stats.sleeps >= 1)
    }

    @Test("other threads posting to a busy reactor never write the eventfd")
    func busyReactorIsNotWoken() async throws {
        let (count, stats) = try await runReactor { reactor -> (Int, ReactorStats) in
            let before = reactor.stats
            let received = Shared(0)
            let sender = ThreadForTest {
                for _ in 0..<200 { reactor.execute { received.update { $0 += 1 } } }
            }
            // Stay busy (never block) until every closure has run.
            while received.value < 200 { await Task.yield() }
            sender.join()
            return (received.value, reactor.stats.since(before))
        }
        #expect(count == 200)
        #expect(stats.eventfdWrites == 0)
        #expect(stats.sleeps == 0)
    }

    @Test("a resumed continuation costs one enqueue in a task, two in a pinned actor")
    func enqueuesPerResume() async throws {
        let (task, actor, calls) = try await runReactor { reactor -> (ReactorStats, ReactorStats, ReactorStats) in
            let before = reactor.stats
            for _ in 0..<1_000 {
                await withUnsafeContinuation { continuation in reactor.execute { continuation.resume() } }
            }
            let task = reactor.stats.since(before)

            let counter = PinnedCounter(reactor: reactor)
            let actorBefore = reactor.stats
            _ = await counter.awaitResumes(1_000)
            let actor = reactor.stats.since(actorBefore)

            let callsBefore = reactor.stats
            for _ in 0..<100 { _ = try await counter.incrementAndSleep() }
            return (task, actor, reactor.stats.since(callsBefore))
        }
        #expect(task.closuresRun == 1_000)
        #expect(task.enqueues <= 1_000)
        // In a pinned actor the Swift 6.3 runtime resumes on the task executor and then
        // hops to the actor: two per resume, plus the hop into the actor and back out.
        #expect(actor.enqueues <= 2_002)
        // Hop in, resume after the sleep (two), hop out: Shoal's waits add no hop of their own.
        #expect(calls.enqueues <= 500)
        #expect(calls.timersFired == 100)
    }

    @Test("a tick in which nothing new happened in the kernel makes no system call")
    func quietTicksMakeNoSystemCalls() async throws {
        var configuration = Reactor.Configuration()
        configuration.taskQuota = .nanoseconds(1)  // every yield ends the tick
        let stats = try await runReactor(configuration: configuration) { reactor -> ReactorStats in
            await Task.yield()
            let before = reactor.stats
            for _ in 0..<10_000 { await Task.yield() }
            return reactor.stats.since(before)
        }
        #expect(stats.ticks >= 10_000)
        #expect(stats.systemCalls == 0, "\(stats)")
    }

    @Test("a bad configuration names the field")
    func badConfiguration() {
        for bad in [0, -1, 65_535, Int.max] {
            var configuration = Reactor.Configuration()
            configuration.maximumIOInFlight = bad
            #expect(
                throws: ReactorError.invalidConfiguration("maximumIOInFlight must be between 1 and 65534, got \(bad)")
            ) {
                try Reactor.runOnCurrentThread(configuration: configuration) { _ in }
            }
        }
    }
}
