import Synchronization

/// The reactor as a Swift Concurrency executor.
///
/// Two faces, kept apart so that each job runs the cheapest correct way (measured in
/// `ReactorExecutorTests`, enqueues per resumed continuation):
/// - the task executor (`Reactor` itself): jobs of tasks whose executor preference is
///   the reactor, run with `runSynchronously(on: UnownedTaskExecutor)`: 1 enqueue per
///   resume in a task's body;
/// - the serial executor (``unownedSerialExecutor``, a separate object): jobs of actors
///   pinned to the reactor, run with `runSynchronously(isolatedTo:taskExecutor:)`:
///   2 enqueues per resume inside the actor (the Swift 6.3 runtime resumes the task on
///   its task executor first, then hops to the actor); 3 with `runSynchronously(on:)`.
/// Running every job isolated to the serial face would make actor resumes 1 enqueue
/// but task resumes 3, and plain tasks are the common case.
extension Reactor: TaskExecutor, SerialExecutor {
    /// Accepts a job of a task that prefers this reactor. Safe from any thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        accept(.task(UnownedJob(job)))
    }

    /// The task-executor face.
    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// The serial-executor face, for actors: `nonisolated var unownedExecutor:
    /// UnownedSerialExecutor { reactor.unownedSerialExecutor }`.
    public var unownedSerialExecutor: UnownedSerialExecutor {
        serialFace.asUnownedSerialExecutor()
    }

    /// Same as ``unownedSerialExecutor``: the reactor's serial face.
    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        unownedSerialExecutor
    }

    /// Traps unless called on the reactor thread (or, after stop, where its late jobs run).
    public func checkIsolated() {
        precondition(isIsolating, "not on the reactor thread")
    }

    /// Whether the caller runs on the reactor thread (or, after stop, where its late jobs run).
    public func isIsolatingCurrentContext() -> Bool? {
        isIsolating
    }

    /// The reactor thread, or the queue that runs jobs after stop.
    var isIsolating: Bool {
        isOnReactorThread || (currentPhase == .stopped && afterStop.isCurrent)
    }

    /// Runs `work` on the reactor thread, after the work queued before it. Safe from any
    /// thread; from the reactor thread it costs no system call, from another thread it
    /// writes the wake-up eventfd only if the reactor sleeps.
    ///
    /// - Returns: `true` when `work` will run on the reactor thread (also when the
    ///   reactor is shutting down: it runs before the loop returns);
    ///   `false` when the reactor has stopped, and `work` is dropped.
    @discardableResult
    public func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        if accept(.closure(work)) { return true }
        if lateWork.add(1, ordering: .relaxed).oldValue == 0 {
            logger.warning("closures submitted to a stopped reactor are dropped")
        }
        return false
    }

    /// Starts a task on this reactor (executor preference), as `Task(executorPreference:)`.
    @discardableResult
    public func spawn<Success: Sendable>(
        _ operation: sending @escaping () async throws -> Success
    ) -> Task<Success, any Error> {
        Task(executorPreference: self, operation: operation)
    }

    /// Queues work: directly on the reactor thread, through the mailbox from elsewhere.
    /// Returns `false` for a closure the stopped reactor refused; a job that arrives
    /// after stop runs on ``afterStop`` instead.
    @discardableResult
    func accept(_ work: Work) -> Bool {
        if currentPhase != .stopped {
            if isOnReactorThread {
                if case .closure = work {} else { counters.enqueues &+= 1 }
                runQueue.append(work)
                return true
            }
            // The mailbox refuses the post once the loop has closed it.
            if mailbox.post(work) { return true }
        }
        if case .closure = work { return false }
        forwardAfterStop(work)
        return true
    }

    /// Runs a job that arrived after the loop returned on ``afterStop``: the task still
    /// finishes (off the reactor thread), and actors keep mutual exclusion.
    func forwardAfterStop(_ work: Work) {
        if lateWork.add(1, ordering: .relaxed).oldValue == 0 {
            // Warn once: a task left running may enqueue on every await.
            logger.warning("jobs enqueued on a stopped reactor run on a serial queue off the reactor thread")
        }
        afterStop.submit { [self] in
            // Not `run(_:)`: the loop's counters belong to the reactor thread.
            switch work {
            case .task(let job): job.runSynchronously(on: asUnownedTaskExecutor())
            case .actor(let job): job.runSynchronously(isolatedTo: unownedSerialExecutor, taskExecutor: asUnownedTaskExecutor())
            case .closure: break
            }
        }
    }

    /// Runs one unit of work (reactor thread).
    @inline(__always)
    func run(_ work: Work) {
        switch work {
        case .task(let job):
            counters.jobsRun &+= 1
            job.runSynchronously(on: asUnownedTaskExecutor())
        case .actor(let job):
            counters.jobsRun &+= 1
            job.runSynchronously(isolatedTo: unownedSerialExecutor, taskExecutor: asUnownedTaskExecutor())
        case .closure(let body):
            counters.closuresRun &+= 1
            body()
        }
    }

    /// The serial-executor face of a reactor: see ``Reactor/unownedSerialExecutor``.
    final class SerialFace: SerialExecutor, @unchecked Sendable {
        unowned let reactor: Reactor

        init(reactor: Reactor) { self.reactor = reactor }

        func enqueue(_ job: consuming ExecutorJob) {
            reactor.accept(.actor(UnownedJob(job)))
        }

        func asUnownedSerialExecutor() -> UnownedSerialExecutor {
            UnownedSerialExecutor(ordinary: self)
        }

        func checkIsolated() {
            precondition(reactor.isIsolating, "not on the reactor thread")
        }

        func isIsolatingCurrentContext() -> Bool? {
            reactor.isIsolating
        }
    }
}
