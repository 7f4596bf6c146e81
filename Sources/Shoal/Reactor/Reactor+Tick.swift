extension Reactor {
    /// The run loop. Every turn (a tick) does, in this order:
    ///
    /// 1. **Tasks.** Take what other threads posted, then run jobs and closures from the
    ///    run queue until it is empty or the task quota is spent (a task that yields
    ///    with ``yieldIfNeeded()`` goes to the back of the queue). When the kernel runs
    ///    dry meanwhile, the requests queued so far go to it at once.
    /// 2. **Submit.** The reactor's own poll requests (re-armed), then the AIO requests
    ///    queued during the tick, go to the kernel in one `io_submit` (more only past
    ///    256 requests, or to step past a rejected one). User requests never take the
    ///    two slots kept for the reactor's polls; what the kernel cannot take yet waits
    ///    for the next tick.
    /// 3. **Reap.** Completions are copied from the AIO ring in user space. Disk I/O
    ///    resumes its task. The poll on the epoll descriptor completing means sockets are
    ///    ready: one `epoll_wait(0)` collects them, and while it keeps finding some, each
    ///    following tick calls it again instead of re-arming the poll (busy sockets cost
    ///    what they cost an epoll loop). The poll on the wake-up eventfd completing means
    ///    another thread posted work while the reactor slept.
    /// 4. **Timers.** Every timer whose deadline has passed fires (never early).
    /// 5. **Stalls.** A tick that held the thread longer than the stall threshold is
    ///    counted and logged.
    /// 6. **Block**, only when the run queue is empty and steps 3 and 4 found nothing:
    ///    one `io_getevents(min 1, timeout = next timer)`, which returns on the first of
    ///    a disk completion, socket readiness, a wake-up from another thread, or the
    ///    timeout. While sockets are busy and nothing is in flight in the ring, one
    ///    `epoll_wait` instead (as an epoll loop sleeps; see `sleepInEpoll(now:)`).
    ///
    /// A tick in which nothing new happened in the kernel makes no system call: the ring
    /// is read in user space and the clock through the vDSO.
    func runLoop() {
        var tickStart = Self.now()
        while true {
            counters.ticks &+= 1
            runTasks(startingAt: tickStart)
            submitQueued()
            let reaped = reapCompletions()
            let fired = fireTimers()
            let tickEnd = Self.now()
            if tickEnd &- tickStart > stallThreshold && tickEnd > tickStart {
                stalls.report(tickEnd - tickStart, at: tickEnd, threshold: stallThreshold, counters: &counters, logger: logger)
            }
            if rootFinished && shutdownIsComplete(now: tickEnd) { return }
            if runQueue.isEmpty && reaped == 0 && fired == 0 {
                tickStart = block(now: tickEnd)
            } else {
                tickStart = tickEnd
            }
        }
    }

    /// Step 1: runs queued work until the queue is empty or the quota is spent.
    func runTasks(startingAt start: UInt64) {
        let posted = mailbox.takeAll()
        if !posted.isEmpty { runQueue.append(contentsOf: posted) }
        if runQueue.isEmpty { return }
        taskDeadline = start &+ quotaNanoseconds
        var feeding = true
        while let work = runQueue.popFirst() {
            run(work)
            // The kernel is running dry: a burst of completions left it with less than
            // four times what now waits while their tasks run. Feed it now rather than at
            // the end of the task phase (measured: 0.81x fio's IOPS at depth 32 without
            // this, 0.97x with it; a few io_submit calls per burst, not one per request).
            // Requests that complete inside io_submit (buffered I/O) gain nothing from
            // going early: once a batch does, the rest of the phase waits for step 2.
            if feeding && submissionQueue.count * 4 > userRequestsInKernel {
                let readyBefore = reaper.readyCount ?? 0
                let sent = submitQueued()
                if sent > 0 && (reaper.readyCount ?? 0) - readyBefore >= sent { feeding = false }
            }
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

    /// Step 6: sleeps in the kernel until a completion, readiness, wake-up or timer.
    /// Returns the time it woke (or `now`, when it did not sleep).
    func block(now: UInt64) -> UInt64 {
        if epollDraining, let woke = sleepInEpoll(now: now) { return woke }
        // Never sleep with requests unsubmitted: re-armed polls are among them. A
        // request the kernel rejects now resumes its task: then there is work to run.
        if epollDraining { stopDraining() }
        submitQueued()
        if !runQueue.isEmpty { return now }
        var deadline = timers.nextDeadline() ?? .max
        if rootFinished { deadline = min(deadline, shutdownDeadline) }
        if deadline <= now { return now }  // due already: the next tick handles it
        // A deadline beyond Int64 nanoseconds (about 292 years) is as good as never.
        let timeout: Duration? = deadline == .max ? nil : .nanoseconds(Int64(clamping: deadline - now))
        guard mailbox.prepareToSleep() else { return now }
        counters.sleeps &+= 1
        var reaped = 0
        do {
            reaped = try reaper.reap(into: reapBuffer, minimum: 1, timeout: timeout)
        } catch {
            logger.error("io_getevents failed in the blocking step", metadata: ["error": "\(error)"])
        }
        let woke = Self.now()
        counters.nanosecondsAsleep &+= woke &- now
        mailbox.awake()
        dispatch(reaped)
        return woke
    }

    /// Step 6 while sockets are busy (the last `epoll_wait` found some) and nothing can
    /// complete in the ring (no disk I/O in flight, nothing to submit): sleeps in
    /// `epoll_wait` itself, as an epoll loop does, instead of re-arming the epoll poll and
    /// waiting in `io_getevents` (three system calls per wake-up instead of one). Returns
    /// `nil` when the ring must be the place to wait: requests in flight, or a timer due in
    /// under a millisecond (`epoll_wait` counts whole milliseconds; the ring's wait has
    /// nanoseconds).
    private func sleepInEpoll(now: UInt64) -> UInt64? {
        guard canSleepInEpoll else { return nil }
        var deadline = timers.nextDeadline() ?? .max
        if rootFinished { deadline = min(deadline, shutdownDeadline) }
        if deadline <= now { return now }
        var timeout: Duration?
        if deadline != .max {
            // Whole milliseconds, rounded down: never late; the rest waits in the ring.
            let milliseconds = (deadline - now) / 1_000_000
            if milliseconds == 0 { return nil }
            timeout = .milliseconds(Int64(clamping: milliseconds))
        }
        guard mailbox.prepareToSleep(inEpoll: true) else { return now }
        counters.sleeps &+= 1
        counters.epollWaitCalls &+= 1
        var count = 0
        do {
            count = try epoll.wait(into: epollBuffer, timeout: timeout)
        } catch {
            logger.error("epoll_wait failed in the blocking step", metadata: ["error": "\(error)"])
        }
        readinessLeftToSleep = false
        let woke = Self.now()
        counters.nanosecondsAsleep &+= woke &- now
        mailbox.awake()
        // Sockets quiet (a timeout or only a wake-up): back to the ring's poll.
        if handleReadiness(count) == 0 { stopDraining() }
        return woke
    }
}
