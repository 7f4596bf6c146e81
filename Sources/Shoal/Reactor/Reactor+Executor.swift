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

    /// Traps unless called on the reactor thread.
    public func checkIsolated() {
        precondition(isOnReactorThread, "not on the reactor thread")
    }

    /// Whether the caller runs on the reactor thread.
    public func isIsolatingCurrentContext() -> Bool? {
        isOnReactorThread
    }

    /// Runs `work` on the reactor thread, after the work queued before it. Safe from any
    /// thread; from the reactor thread it costs no system call, from another thread it
    /// writes the wake-up eventfd only if the reactor sleeps.
    ///
    /// - Returns: `false` if the reactor has stopped; `work` then does not run.
    @discardableResult
    public func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        if currentPhase == .stopped {
            lateWork.add(1, ordering: .relaxed)
            return false
        }
        accept(.closure(work))
        return true
    }

    /// Starts a task on this reactor (executor preference), as `Task(executorPreference:)`.
    @discardableResult
    public func spawn<Success: Sendable>(
        _ operation: sending @escaping () async throws -> Success
    ) -> Task<Success, any Error> {
        Task(executorPreference: self, operation: operation)
    }

    /// Queues work: directly on the reactor thread, through the mailbox from elsewhere.
    func accept(_ work: Work) {
        // Stopped: nobody drains the queues any more, even on the reactor's own thread.
        if currentPhase == .stopped {
            forwardAfterStop([work])
            return
        }
        if isOnReactorThread {
            if case .closure = work {} else { counters.enqueues &+= 1 }
            runQueue.append(work)
            return
        }
        mailbox.post(work)
        // The loop may have stopped between the check and the post: take it back.
        if currentPhase == .stopped { forwardAfterStop(mailbox.takeAll()) }
    }

    /// A job that arrives after the loop returned goes to the global executor, so the
    /// task still finishes (off the reactor thread); a closure is dropped.
    private func forwardAfterStop(_ items: [Work]) {
        for work in items {
            let first = lateWork.add(1, ordering: .relaxed).oldValue == 0
            switch work {
            case .task(let job), .actor(let job):
                // Warn once: a task left running may enqueue on every await.
                if first { logger.warning("jobs enqueued on a stopped reactor run on the global executor") }
                globalConcurrentExecutor.enqueue(job)
            case .closure:
                if first { logger.warning("closures submitted to a stopped reactor are dropped") }
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
            precondition(reactor.isOnReactorThread, "not on the reactor thread")
        }

        func isIsolatingCurrentContext() -> Bool? {
            reactor.isOnReactorThread
        }
    }
}
