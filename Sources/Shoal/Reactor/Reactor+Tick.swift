extension Reactor {
    /// The run loop. Every turn (a tick) does, in this order:
    ///
    /// 1. **Tasks.** Take what other threads posted, then run jobs and closures from the
    ///    run queue until it is empty or the task quota is spent (a task that yields
    ///    with ``yieldIfNeeded()`` goes to the back of the queue).
    /// 2. **Submit.** Every AIO request queued during the tick goes to the kernel in one
    ///    `io_submit` (more only past 256 requests, or to step past a rejected one); this
    ///    includes re-arming the reactor's own poll requests. What the kernel cannot take
    ///    yet waits for the next tick.
    /// 3. **Reap.** Completions are copied from the AIO ring in user space. Disk I/O
    ///    resumes its task. The poll on the epoll descriptor completing means sockets are
    ///    ready: one `epoll_wait(0)` collects them. The poll on the wake-up eventfd
    ///    completing means another thread posted work while the reactor slept.
    /// 4. **Timers.** Every timer whose deadline has passed fires (never early).
    /// 5. **Block**, only when the run queue is empty and steps 3 and 4 found nothing:
    ///    one `io_getevents(min 1, timeout = next timer)`, which returns on the first of
    ///    a disk completion, socket readiness, a wake-up from another thread, or the
    ///    timeout.
    ///
    /// A tick in which nothing new happened in the kernel makes no system call: the ring
    /// is read in user space and the clock through the vDSO.
    func runLoop() {
        while true {
            counters.ticks &+= 1
            runTasks()
            submitQueued()
            let reaped = reapCompletions()
            let fired = fireTimers()
            if rootFinished && shutdownIsComplete() { return }
            if runQueue.isEmpty && reaped == 0 && fired == 0 {
                block()
            }
        }
    }

    /// Step 1: runs queued work until the queue is empty or the quota is spent.
    func runTasks() {
        let posted = mailbox.takeAll()
        if !posted.isEmpty { runQueue.append(contentsOf: posted) }
        if runQueue.isEmpty { return }
        taskDeadline = Self.now() &+ quotaNanoseconds
        while let work = runQueue.popFirst() {
            run(work)
            if Self.now() >= taskDeadline { return }
        }
    }

    /// Step 4: fires every due timer; returns how many fired.
    func fireTimers() -> Int {
        if timers.count == 0 { return 0 }
        let now = Self.now()
        var fired = 0
        while let action = timers.popExpired(now: now) {
            fired += 1
            switch action {
            case .resume(let continuation): continuation.resume()
            case .call(let body): body()
            }
        }
        counters.timersFired &+= fired
        return fired
    }

    /// Step 5: sleeps in the kernel until a completion, readiness, wake-up or timer.
    func block() {
        // Never sleep with requests unsubmitted: re-armed polls are among them.
        if !submissionQueue.isEmpty { submitQueued() }
        var timeout: Duration? = nil
        if let deadline = timers.nextDeadline() {
            let now = Self.now()
            if deadline <= now { return }  // due already: the next tick fires it
            timeout = .nanoseconds(Int64(deadline - now))
        }
        if rootFinished {
            // Shutting down: wait only for I/O in flight, and not past the grace period.
            let now = Self.now()
            if now >= shutdownDeadline { return }
            let left = Duration.nanoseconds(Int64(shutdownDeadline - now))
            timeout = min(timeout ?? left, left)
        }
        guard mailbox.prepareToSleep() else { return }
        counters.sleeps &+= 1
        let start = Self.now()
        var reaped = 0
        do {
            reaped = try reaper.reap(into: reapBuffer, minimum: 1, timeout: timeout)
        } catch {
            logger.error("io_getevents failed in the blocking step", metadata: ["error": "\(error)"])
        }
        counters.nanosecondsAsleep &+= Self.now() &- start
        mailbox.awake()
        dispatch(reaped)
    }
}
