import CShoal
import ShoalKernel
import Synchronization

extension Reactor {
    /// Runs a reactor on a thread of its own until `body` returns, and returns its result.
    ///
    /// This is the entry point for `async` code, including Swift 6 top-level code and
    /// `@main` types with `static func main() async`: the caller suspends (its thread,
    /// and the main actor if it was on it, stay free) while a new thread named
    /// `shoal-reactor` runs the loop.
    ///
    /// `body` runs as the root task, with the reactor as its executor preference, so it
    /// and the tasks it starts (`async let`, task groups, ``spawn(_:)``) run on the
    /// reactor's thread. What happens to work still pending when `body` returns is
    /// described at ``runOnCurrentThread(configuration:_:)``, which runs the same loop
    /// on a thread you give it.
    ///
    /// ```swift
    /// let bytes = try await Reactor.run { reactor in
    ///     try await reactor.sleep(for: .milliseconds(10))
    ///     return 42
    /// }
    /// ```
    ///
    /// Cancelling the calling task cancels the root task.
    ///
    /// - Throws: ``ReactorError/invalidConfiguration(_:)``, a `SystemCallError` when a
    ///   kernel resource cannot be set up (for example `io_setup` refused because
    ///   `fs.aio-max-nr` is exhausted, or no thread could be started), or what `body` threw.
    public static func run<Result: Sendable>(
        configuration: Configuration = Configuration(),
        _ body: @escaping @Sendable (Reactor) async throws -> Result
    ) async throws -> Result {
        let root = RootTaskHandle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                do {
                    try ReactorThread.start(name: "shoal-reactor") {
                        continuation.resume(
                            with: Swift.Result { try run(configuration: configuration, root: root, body) })
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            root.cancel()
        }
    }

    /// Runs a reactor on the calling thread until `body` returns, and returns its result.
    ///
    /// `body` runs as the root task, with the reactor as its executor preference, so it
    /// and the tasks it starts (`async let`, task groups, ``spawn(_:)``) run on this
    /// thread. Call it from a plain thread: it blocks that thread until done. On the
    /// main thread it blocks the main actor too, so `@MainActor` code (and `await
    /// MainActor.run { }` from the reactor) cannot run until it returns; it logs a
    /// notice saying so. From `async` code, and from Swift 6 top-level code, `try await
    /// Reactor.run { }` runs the reactor on a thread of its own instead.
    ///
    /// When `body` returns or throws, the reactor shuts down:
    /// - tasks sleeping on a reactor timer, or waiting for readiness (epoll or an AIO
    ///   poll request), resume with `CancellationError`; scheduled closures that have
    ///   not fired are dropped; later readiness waits and polls fail at once with
    ///   `CancellationError`;
    /// - new sleeps, timeouts and scheduled closures work as usual, and so do disk
    ///   requests, so a task can flush and close on its way out (with a timeout);
    ///   requests in flight complete with their real result;
    /// - the loop keeps running until no task is runnable, no I/O is in flight, no
    ///   timer is pending and no other thread has posted work, or until
    ///   ``Configuration/shutdownGracePeriod`` has passed; timers still pending then
    ///   resume their tasks with `CancellationError`;
    /// - the loop waits out every request still in the kernel (it may write to their
    ///   buffers until it completes), runs every closure ``execute(_:)`` accepted, and
    ///   returns. Jobs still queued, or enqueued later from any thread, run one at a time
    ///   on a serial queue off the reactor thread (so no task hangs and actors keep
    ///   their mutual exclusion); Shoal's waits called from them throw
    ///   ``ReactorError/stopped(_:)``, and later ``execute(_:)`` calls return `false`.
    ///
    /// - Throws: ``ReactorError/invalidConfiguration(_:)``, a `SystemCallError` when a
    ///   kernel resource cannot be set up (for example `io_setup` refused because
    ///   `fs.aio-max-nr` is exhausted), or what `body` threw.
    public static func runOnCurrentThread<Result: Sendable>(
        configuration: Configuration = Configuration(),
        _ body: @escaping @Sendable (Reactor) async throws -> Result
    ) throws -> Result {
        try run(configuration: configuration, root: nil, body)
    }

    private static func run<Result: Sendable>(
        configuration: Configuration,
        root: RootTaskHandle?,
        _ body: @escaping @Sendable (Reactor) async throws -> Result
    ) throws -> Result {
        let outcome = Outcome<Result>()
        do {
            let reactor = try Reactor(configuration: configuration)
            if shoal_is_main_thread() != 0 {
                reactor.logger.notice(
                    """
                    Reactor.runOnCurrentThread blocks the main thread until it returns: @MainActor code cannot run meanwhile; \
                    call `try await Reactor.run { }` from async code to run the reactor on a thread of its own
                    """)
            }
            let task = Task(executorPreference: reactor) {
                do {
                    outcome.value = .success(try await body(reactor))
                } catch {
                    outcome.value = .failure(error)
                }
                reactor.rootFinished = true
            }
            root?.started(task)
            reactor.runLoop()
            reactor.stop()
            // Destroying the AIO context (io_destroy) waits for an RCU grace period,
            // tens of milliseconds: let a thread of its own drop the reactor, so the
            // caller has its result at once.
            ReactorThread.release(reactor)
        }
        return try outcome.value!.get()
    }

    /// Called once the root task has finished, each tick: starts the shutdown on the
    /// first call, then says whether it is complete.
    func shutdownIsComplete(now: UInt64) -> Bool {
        if currentPhase == .running { beginShutdown(now: now) }
        let idle =
            runQueue.isEmpty && io.busy == 0 && timers.count == 0 && blocking.inFlight == 0
            && mailbox.pending.load(ordering: .relaxed) == 0
        if idle { return true }
        if now >= shutdownDeadline {
            logger.warning(
                "shutdown grace period over with work left",
                metadata: [
                    "queued": "\(runQueue.count)", "ioInFlight": "\(io.busy)", "timers": "\(timers.count)",
                    "blockingCalls": "\(blocking.inFlight)",
                ])
            return true
        }
        return false
    }

    /// Cancels timer and readiness waits; see ``runOnCurrentThread(configuration:_:)``.
    private func beginShutdown(now: UInt64) {
        phase.store(Phase.shuttingDown.rawValue, ordering: .releasing)
        shutdownDeadline = MonotonicTime.deadline(after: configuration.shutdownGracePeriod, from: now) ?? .max
        cancelTimersAndWaits()
        cancelPollRequests()
    }

    /// Resumes sleeping tasks and readiness waiters with `CancellationError`, and drops
    /// scheduled closures.
    private func cancelTimersAndWaits() {
        for action in timers.removeAll() {
            if case .resume(let continuation) = action { continuation.resume(throwing: CancellationError()) }
        }
        for waiter in readiness.takeAllWaiters() {
            waiter.resume(throwing: CancellationError())
        }
    }

    /// After the loop: withdraws the reactor's own polls, waits out every request in
    /// the kernel (it may still write to their buffers), closes the mailbox, runs the
    /// closures it accepted, and hands the jobs left to ``afterStop``.
    func stop() {
        stopping = true
        cancelTimersAndWaits()
        withdrawInternalPolls()
        cancelPollRequests()
        failQueuedRequests()
        while userRequestsInKernel > 0 || internalPollsInKernel {
            let reaped = (try? reaper.reap(into: reapBuffer, minimum: 1, timeout: .seconds(1))) ?? 0
            dispatch(reaped)
        }
        var leftovers = Array(runQueue)
        runQueue.removeAll()
        // Jobs that arrive from now on wait on the serial queue until the closures below
        // have run here: one at a time, whatever runs an actor pinned to the reactor.
        afterStop.hold()
        leftovers += mailbox.close { phase.store(Phase.stopped.rawValue, ordering: .releasing) }
        finishBlockingCalls()
        var jobs = 0
        for work in leftovers {
            if case .closure(let body) = work {
                counters.closuresRun &+= 1
                body()
            } else {
                jobs += 1
                forwardAfterStop(work)
            }
        }
        threadReleased.store(true, ordering: .releasing)
        afterStop.release()
        if jobs > 0 {
            logger.warning(
                "reactor stopped with tasks queued; they continue on a serial queue off the reactor thread",
                metadata: ["jobs": "\(jobs)"])
        }
    }
}

/// Carries the root task's result out of the loop (written and read on the reactor thread).
final class Outcome<Value>: @unchecked Sendable {
    var value: Result<Value, any Error>?
}

/// The root task of a reactor started by ``Reactor/run(configuration:_:)``,
/// so that cancelling the caller cancels it, even before it exists.
final class RootTaskHandle: Sendable {
    private struct State {
        var task: Task<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    /// Records the root task; cancels it at once if the caller was cancelled already.
    func started(_ task: Task<Void, Never>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    /// Cancels the root task, now or as soon as it exists.
    func cancel() {
        let task = state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}
