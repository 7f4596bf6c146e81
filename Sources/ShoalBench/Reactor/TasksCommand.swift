import ArgumentParser
import Dispatch
import Shoal
import Synchronization

/// `shoal-bench tasks`: how fast work moves through the reactor's run queue.
struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract:
            "Closures and task resumptions per second through the reactor's run queue, against libdispatch and Swift's global executor.",
        discussion: """
            closures: a chain of N closures, each queueing the next (Reactor.execute from the \
            reactor thread; peer: a libdispatch serial queue, DispatchQueue.async). \
            resumes: one task awaiting Task.yield() N times (each a job through the run queue; \
            peer: the same loop on Swift's global concurrent executor). enqueues per resume: \
            executor enqueues per continuation resumed by a reactor closure (from the counters).
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Closures or resumptions per measurement.")
    var count = 200_000

    func validate() throws {
        guard count >= 1_000 else { throw ValidationError("--count must be at least 1000") }
    }

    func run() throws {
        let count = self.count
        var samples: [String: [Double]] = [:]
        var enqueuesPerResume: [Double] = []
        for round in -1..<common.rounds {
            let results = try runReactor { reactor in
                (
                    closures: await closureChain(reactor, count: count),
                    resumes: await yieldLoop(count: count),
                    enqueues: await continuationRoundTrips(reactor, count: count / 10)
                )
            }
            let peers = (closures: dispatchChain(count: count), resumes: globalYieldLoop(count: count))
            guard round >= 0 else { continue }
            samples["closures", default: []].append(Double(count) / results.closures)
            samples["dispatch", default: []].append(Double(count) / peers.closures)
            samples["resumes", default: []].append(Double(count) / results.resumes)
            samples["global", default: []].append(Double(count) / peers.resumes)
            enqueuesPerResume.append(results.enqueues)
        }
        let closures = Summary(samples["closures"]!)
        let dispatch = Summary(samples["dispatch"]!)
        let resumes = Summary(samples["resumes"]!)
        let global = Summary(samples["global"]!)
        let closureRatio = Summary(zip(samples["closures"]!, samples["dispatch"]!).map { $0 / $1 })
        let resumeRatio = Summary(zip(samples["resumes"]!, samples["global"]!).map { $0 / $1 })
        let enqueues = Summary(enqueuesPerResume)
        print(
            """
            shoal-bench tasks: millions per second, median [min-max] of \(common.rounds) rounds, \(count) per measurement
            \(MachineInfo.current().line)

            \(pad("what", 34))\(pad("Shoal reactor", 22))\(pad("peer", 22))Shoal/peer
            \(pad("closures (peer: dispatch serial)", 34))\(pad(millions(closures), 22))\(pad(millions(dispatch), 22))\(closureRatio.formatted(2))x
            \(pad("resumes (peer: global executor)", 34))\(pad(millions(resumes), 22))\(pad(millions(global), 22))\(resumeRatio.formatted(2))x
            enqueues per resumed continuation: \(enqueues.formatted(3))
            """)
        if common.json {
            print(
                JSONValue.object([
                    ("benchmark", .string("tasks")),
                    ("rounds", .integer(common.rounds)),
                    ("count", .integer(count)),
                    ("closures_per_s", .number(closures.median)),
                    ("dispatch_closures_per_s", .number(dispatch.median)),
                    ("resumes_per_s", .number(resumes.median)),
                    ("global_resumes_per_s", .number(global.median)),
                    ("enqueues_per_resume", .number(enqueues.median)),
                ]).text)
        }
    }

    private func millions(_ summary: Summary) -> String {
        summary.scaled(by: 1e6).formatted(2)
    }
}

/// Seconds to run a chain of `count` closures on the reactor, each queueing the next.
private func closureChain(_ reactor: Reactor, count: Int) async -> Double {
    let start = monotonicNanoseconds()
    await withUnsafeContinuation { (done: UnsafeContinuation<Void, Never>) in
        let remaining = Counter(count)
        @Sendable func step() {
            if remaining.decrement() == 0 { done.resume() } else { reactor.execute(step) }
        }
        reactor.execute(step)
    }
    return Double(monotonicNanoseconds() - start) / 1e9
}

/// Seconds for `count` `Task.yield()` calls in the current task.
private func yieldLoop(count: Int) async -> Double {
    let start = monotonicNanoseconds()
    for _ in 0..<count { await Task.yield() }
    return Double(monotonicNanoseconds() - start) / 1e9
}

/// Enqueues per continuation resumed by a reactor closure, from the reactor's counters.
private func continuationRoundTrips(_ reactor: Reactor, count: Int) async -> Double {
    let before = reactor.stats
    for _ in 0..<count {
        await withUnsafeContinuation { continuation in reactor.execute { continuation.resume() } }
    }
    return Double(reactor.stats.since(before).enqueues) / Double(count)
}

/// The peer of ``closureChain``: a libdispatch serial queue.
private func dispatchChain(count: Int) -> Double {
    let queue = DispatchQueue(label: "shoal-bench.dispatch-peer")
    let done = DispatchSemaphore(value: 0)
    let remaining = Counter(count)
    @Sendable func step() {
        if remaining.decrement() == 0 { done.signal() } else { queue.async(execute: step) }
    }
    let start = monotonicNanoseconds()
    queue.async(execute: step)
    done.wait()
    return Double(monotonicNanoseconds() - start) / 1e9
}

/// The peer of ``yieldLoop``: the same loop in a task on Swift's global executor.
private func globalYieldLoop(count: Int) -> Double {
    let done = DispatchSemaphore(value: 0)
    let seconds = Mutex(0.0)
    Task.detached {
        let elapsed = await yieldLoop(count: count)
        seconds.withLock { $0 = elapsed }
        done.signal()
    }
    done.wait()
    return seconds.withLock { $0 }
}

/// A countdown shared by the closures of a chain.
private final class Counter: Sendable {
    private let value: Atomic<Int>
    init(_ value: Int) { self.value = Atomic(value) }
    func decrement() -> Int { value.subtract(1, ordering: .relaxed).newValue }
}
