import ArgumentParser
import NIOCore
import NIOPosix
import Synchronization

/// `nio-queue`: SwiftNIO's run queue, measured the way `shoal-bench tasks` measures
/// Shoal's: a chain of closures each queueing the next with `EventLoop.execute` from
/// the loop itself, and one task resuming itself with `Task.yield()` on the event loop
/// (an actor whose executor is the loop: NIO 2.101 offers a `SerialExecutor`, no
/// `TaskExecutor`). Prints one JSON object per run on its last line.
@main
struct NIOQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nio-queue",
        abstract: "Closures and task resumptions per second through a SwiftNIO event loop.")

    @Option(help: "Closures or resumptions per measurement.")
    var count = 200_000

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        // One warm-up, then the measurement.
        _ = try await closureChain(loop, count: count)
        let closures = try await closureChain(loop, count: count)
        let pinned = LoopPinned(loop)
        _ = await pinned.yieldLoop(count: count)
        let resumes = await pinned.yieldLoop(count: count)
        print("{\"closures_per_s\":\(Double(count) / closures),\"resumes_per_s\":\(Double(count) / resumes)}")
        try await group.shutdownGracefully()
    }
}

/// Seconds for a chain of `count` closures on `loop`, each queueing the next.
private func closureChain(_ loop: any EventLoop, count: Int) async throws -> Double {
    let done = loop.makePromise(of: Void.self)
    let start = ContinuousClock.now
    // A relaxed atomic, as in `shoal-bench tasks`.
    let remaining = Counter(count)
    @Sendable func step() {
        if remaining.decrement() == 0 { done.succeed() } else { loop.execute(step) }
    }
    loop.execute(step)
    try await done.futureResult.get()
    return (ContinuousClock.now - start) / .seconds(1)
}

/// An actor whose jobs run on one event loop.
private actor LoopPinned {
    let loop: any EventLoop
    init(_ loop: any EventLoop) { self.loop = loop }

    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    /// Seconds for `count` `Task.yield()` calls, each a job through the loop.
    func yieldLoop(count: Int) async -> Double {
        let start = ContinuousClock.now
        for _ in 0..<count { await Task.yield() }
        return (ContinuousClock.now - start) / .seconds(1)
    }
}

/// A countdown shared by the closures of a chain.
private final class Counter: Sendable {
    private let value: Atomic<Int>
    init(_ value: Int) { self.value = Atomic(value) }
    func decrement() -> Int { value.subtract(1, ordering: .relaxed).newValue }
}
