import ShoalKernel
import ShoalTestSupport
import Synchronization
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// An actor pinned to a reactor whose method is a read-modify-write that mutual exclusion
/// keeps whole: any overlap of two calls is counted, and loses an increment.
actor RacyCounter {
    let reactor: Reactor
    private var count = 0
    private var inside = false
    private var overlaps = 0

    init(reactor: Reactor) { self.reactor = reactor }

    nonisolated var unownedExecutor: UnownedSerialExecutor { reactor.unownedSerialExecutor }

    func bump() {
        if inside { overlaps += 1 }
        inside = true
        let value = count
        for _ in 0..<200 { _ = getpid() }  // widen the window
        count = value + 1
        inside = false
    }

    func read() -> (count: Int, overlaps: Int) { (count, overlaps) }

    /// Whether a ``bump()`` is under way.
    var isInside: Bool { inside }
}

/// Runs a reactor that returns at once, and returns it, stopped.
func stoppedReactor() async throws -> Reactor {
    let box = Shared<Reactor?>(nil)
    try await runReactor { reactor in box.value = reactor }
    return box.value!
}

@Suite("A stopped reactor: late work finishes, nothing hangs, nothing is lost")
struct StoppedReactorTests {
    @Test("sleep, read and readiness waits from a task off the reactor throw stopped promptly")
    func waitsAfterStopThrow() async throws {
        let reactor = try await stoppedReactor()
        let ends = TestPipe()
        defer { ends.close() }
        // Detached: not on the reactor thread, so each call would hop to the reactor.
        let messages = await Task.detached { () -> [String] in
            var messages: [String] = []
            do { try await reactor.sleep(for: .milliseconds(1)) } catch { messages.append("\(error)") }
            do { _ = try await reactor.read(from: ends.read, at: 0, into: IOBuffer(capacity: 8)) } catch {
                messages.append("\(error)")
            }
            do { try await reactor.synchronize(ends.write) } catch { messages.append("\(error)") }
            do { try await reactor.clock.sleep(for: .seconds(1)) } catch { messages.append("\(error)") }
            do { _ = try await reactor.withTimeout(.seconds(1)) { 1 } } catch { messages.append("\(error)") }
            return messages
        }.value
        #expect(messages.count == 5)
        #expect(messages.allSatisfy { $0.hasPrefix("the reactor has stopped") }, "\(messages)")
    }

    @Test("a late job that prefers the stopped reactor may call its synchronous API without trapping")
    func synchronousCallsAfterStop() async throws {
        let reactor = try await stoppedReactor()
        let ends = TestPipe()
        defer { ends.close() }
        let (isolated, fired, cancelled, registerError) = await Task(executorPreference: reactor) {
            () -> (Bool, Bool, Bool, String) in
            // This job runs on the serial queue of the stopped reactor.
            let fired = Shared(false)
            let timer = reactor.schedule(after: .zero) { fired.value = true }
            let cancelled = reactor.cancel(timer)
            var registerError = "none"
            do { _ = try reactor.register(ends.read) } catch { registerError = "\(error)" }
            return (reactor.isIsolatingCurrentContext() == true, fired.value, cancelled, registerError)
        }.value
        #expect(isolated)
        #expect(!fired)
        #expect(!cancelled)
        #expect(registerError.hasPrefix("the reactor has stopped"))
    }

    @Test("after stop no thread is the reactor thread, even one the system gave the same id")
    func noReactorThreadAfterStop() async throws {
        let reactor = try await stoppedReactor()
        var answers: [Bool] = []
        for _ in 0..<20 { answers.append(try await reactor.spawn { reactor.isOnReactorThread }.value) }
        #expect(answers.allSatisfy { !$0 })
        #expect(reactor.isShuttingDown)
    }

    @Test("the thread that ran runOnCurrentThread is not the reactor thread once it returns")
    func callerThreadReleased() throws {
        let answers = Shared<(Bool, Bool?)>((true, true))
        ThreadForTest {
            let box = Shared<Reactor?>(nil)
            try! Reactor.runOnCurrentThread { box.value = $0 }
            answers.value = (box.value!.isOnReactorThread, box.value!.isIsolatingCurrentContext())
        }.join()
        #expect(answers.value.0 == false)
        #expect(answers.value.1 == false)
    }

    @Test("closures accepted before stop run on the reactor thread before any late job of a pinned actor")
    func leftoverClosuresKeepExclusion() async throws {
        var configuration = Reactor.Configuration()
        configuration.taskQuota = .zero
        configuration.shutdownGracePeriod = .zero
        let seenBusy = Shared(0)
        let counted = Shared(0)
        try await runReactor(configuration: configuration) { reactor in
            let counter = RacyCounter(reactor: reactor)
            reactor.spawn {
                for _ in 0..<50 { await counter.bump() }
                counted.value = await counter.read().count
            }
            reactor.execute {
                for _ in 0..<100 {
                    counter.assumeIsolated { counter in
                        if counter.isInside { seenBusy.update { $0 += 1 } }
                        counter.bump()
                    }
                    usleep(200)
                }
            }
        }
        for _ in 0..<500 where counted.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(seenBusy.value == 0)
        #expect(counted.value == 150)
    }

    @Test("a scheduled timer is cancelled only by the reactor that scheduled it")
    func timerBelongsToItsReactor() async throws {
        let other = try await stoppedReactor()
        let (cancelledElsewhere, fired) = try await runReactor { reactor -> (Bool, Bool) in
            let fired = Shared(false)
            let timer = reactor.schedule(after: .milliseconds(5)) { fired.value = true }
            let elsewhere = other.cancel(timer)
            try await reactor.sleep(for: .milliseconds(10))
            return (elsewhere, fired.value)
        }
        #expect(!cancelledElsewhere)
        #expect(fired)
    }

    @Test("an actor pinned to a stopped reactor keeps mutual exclusion")
    func pinnedActorAfterStop() async throws {
        let reactor = try await stoppedReactor()
        let counter = RacyCounter(reactor: reactor)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<200 { await counter.bump() } }
            }
        }
        let (count, overlaps) = await counter.read()
        #expect(count == 1_600)
        #expect(overlaps == 0)
        #expect(reactor.stats.arrivedAfterStop > 0)
    }

    @Test("execute returns true only for closures that run, across lifecycles with senders on other threads")
    func executeTrueMeansItRuns() async throws {
        let accepted = Atomic<Int>(0)
        let ran = Atomic<Int>(0)
        for _ in 0..<20 {
            let go = Atomic<Bool>(true)
            let finished = Atomic<Int>(0)
            try await runReactor { reactor in
                for _ in 0..<2 {
                    startDetachedThread {
                        var sent = 0
                        while go.load(ordering: .relaxed) && sent < 20_000 {
                            if reactor.execute({ ran.add(1, ordering: .relaxed) }) { accepted.add(1, ordering: .relaxed) }
                            sent += 1
                            usleep(20)
                        }
                        finished.add(1, ordering: .relaxed)
                    }
                }
                try await reactor.sleep(for: .milliseconds(2))
            }
            go.store(false, ordering: .relaxed)
            while finished.load(ordering: .relaxed) < 2 { try await Task.sleep(for: .milliseconds(1)) }
        }
        // Every run has returned and every sender has ended: nothing accepted is pending.
        #expect(accepted.load(ordering: .relaxed) == ran.load(ordering: .relaxed))
        #expect(accepted.load(ordering: .relaxed) > 0)
    }

    @Test("after run returns, execute is refused and a late job finishes off the reactor thread")
    func lateJob() async throws {
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
}
