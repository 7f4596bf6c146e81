import Synchronization

extension Reactor {
    /// Runs a reactor on the calling thread until `body` returns, and returns its result.
    ///
    /// `body` runs as the root task, with the reactor as its executor preference, so it
    /// and the tasks it starts (`async let`, task groups, ``spawn(_:)``) run on this
    /// thread. Call it from a plain thread (for example the main thread of a command
    /// line program), not from inside an `async` function: it blocks until done.
    ///
    /// When `body` returns or throws, the reactor shuts down:
    /// - tasks sleeping on a reactor timer, or waiting for readiness (epoll or an AIO
    ///   poll request), resume with `CancellationError`; later sleeps and epoll waits
    ///   fail at once with `CancellationError`;
    ///   scheduled closures that have not fired are dropped;
    /// - AIO requests in flight complete and their tasks resume with the real result
    ///   (the kernel owns their buffers until then); new requests are still accepted;
    /// - queued tasks keep running until the run queue is empty, no I/O is in flight
    ///   and no other thread has posted work, or until
    ///   ``Configuration/shutdownGracePeriod`` has passed;
    /// - then the loop returns. Jobs still queued, or enqueued later, run on Swift's
    ///   global executor (so no task hangs, though it leaves the reactor thread); later
    ///   ``execute(_:)`` calls return `false` and their closures are dropped.
    ///
    /// - Throws: ``ReactorError/invalidConfiguration(_:)``, a ``SystemCallError`` when a
    ///   kernel resource cannot be set up (for example `io_setup` refused because
    ///   `fs.aio-max-nr` is exhausted), or what `body` threw.
    public static func run<Result: Sendable>(
        configuration: Configuration = Configuration(),
        _ body: @escaping @Sendable (Reactor) async throws -> Result
    ) throws -> Result {
        let reactor = try Reactor(configuration: configuration)
        let outcome = Outcome<Result>()
        Task(executorPreference: reactor) {
            do {
                outcome.value = .success(try await body(reactor))
            } catch {
                outcome.value = .failure(error)
            }
            reactor.rootFinished = true
        }
        reactor.runLoop()
        reactor.stop()
        return try outcome.value!.get()
    }

    /// Called once the root task has finished, each tick: starts the shutdown on the
    /// first call, then says whether it is complete.
    func shutdownIsComplete() -> Bool {
        if currentPhase == .running { beginShutdown() }
        let userRequests = io.busy
        let idle = runQueue.isEmpty && userRequests == 0 && mailbox.pending.load(ordering: .relaxed) == 0
        if idle { return true }
        if Self.now() >= shutdownDeadline {
            logger.warning(
                "shutdown grace period over with work left",
                metadata: ["queued": "\(runQueue.count)", "ioInFlight": "\(userRequests)"])
            return true
        }
        return false
    }

    /// Cancels timer and readiness waits; see ``run(configuration:_:)``.
    private func beginShutdown() {
        phase.store(Phase.shuttingDown.rawValue, ordering: .releasing)
        let (seconds, attoseconds) = configuration.shutdownGracePeriod.components
        shutdownDeadline = Self.now() &+ UInt64(seconds) * 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
        for action in timers.removeAll() {
            if case .resume(let continuation) = action { continuation.resume(throwing: CancellationError()) }
        }
        for waiter in readiness.takeAllWaiters() {
            waiter.resume(throwing: CancellationError())
        }
        cancelPollRequests()
    }

    /// After the loop: waits out every request in flight (the kernel may still write to
    /// their buffers), withdraws the reactor's own polls, and hands what is left to the
    /// global executor.
    func stop() {
        stopping = true
        for poll in [epollPoll, wakeupPoll] where isInFlight(poll) {
            counters.ioCancelCalls &+= 1
            _ = try? reaper.context.cancel(poll)
        }
        dropQueuedInternalPolls()
        cancelPollRequests()
        while io.busy > 0 || epollPollArmed || wakeupPollArmed {
            submitQueued()
            let reaped = (try? reaper.reap(into: reapBuffer, minimum: 1, timeout: .seconds(1))) ?? 0
            dispatch(reaped)
        }
        phase.store(Phase.stopped.rawValue, ordering: .releasing)
        handOverLeftovers()
    }

    /// Gives queued jobs to the global executor and drops queued closures.
    func handOverLeftovers() {
        var leftovers = Array(runQueue)
        runQueue.removeAll()
        leftovers += mailbox.takeAll()
        var dropped = 0
        for work in leftovers {
            switch work {
            case .task(let job), .actor(let job): globalConcurrentExecutor.enqueue(job)
            case .closure: dropped += 1
            }
        }
        if !leftovers.isEmpty {
            logger.warning(
                "reactor stopped with work queued",
                metadata: ["jobsToGlobalExecutor": "\(leftovers.count - dropped)", "closuresDropped": "\(dropped)"])
        }
    }
}

/// Carries the root task's result out of the loop (written and read on the reactor thread).
final class Outcome<Value>: @unchecked Sendable {
    var value: Result<Value, any Error>?
}
