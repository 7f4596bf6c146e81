import ShoalKernel

extension Reactor {
    /// Step 2: hands queued requests to the kernel, the reactor's own polls first, then
    /// user requests while fewer than ``Configuration/maximumIOInFlight`` are in the kernel.
    /// One `io_submit` per 256 requests; more only to step past a request the kernel rejects.
    /// Returns how many requests the kernel took.
    @discardableResult
    func submitQueued() -> Int {
        var sent = 0
        while true {
            var count = 0
            if epollPoll.state == .queued {
                submitBatch[count] = epollPoll.request
                count += 1
            }
            if wakeupPoll.state == .queued {
                submitBatch[count] = wakeupPoll.request
                count += 1
            }
            let room = configuration.maximumIOInFlight - userRequestsInKernel
            let users = min(submissionQueue.count, room, submitBatch.count - count)
            for position in 0..<users { submitBatch[count + position] = submissionQueue[position] }
            count += users
            if count == 0 { return sent }
            counters.ioSubmitCalls &+= 1
            do {
                let taken = try reaper.context.submit(UnsafeMutableBufferPointer(rebasing: submitBatch[..<count]))
                for position in 0..<taken { markSubmitted(submitBatch[position]!) }
                sent += taken
                // Fewer taken: the kernel has no slot now (EAGAIN). The rest waits for
                // completions; a full batch means there may be more to send.
                if taken < count || count < submitBatch.count { return sent }
            } catch {
                rejectSubmission(submitBatch[0]!, error)
            }
        }
    }

    private func markSubmitted(_ request: UnsafeMutablePointer<AIORequest>) {
        if request == epollPoll.request {
            epollPoll.state = .inKernel
        } else if request == wakeupPoll.request {
            wakeupPoll.state = .inKernel
        } else {
            submissionQueue.removeFirst()
            userRequestsInKernel += 1
            if let index = io.index(of: request.pointee.userData) { io[index].state = .inFlight }
        }
    }

    /// The kernel refused `request` at `io_submit`: its task gets the error.
    private func rejectSubmission(_ request: UnsafeMutablePointer<AIORequest>, _ error: SystemCallError) {
        if request == epollPoll.request || request == wakeupPoll.request {
            logger.critical("the reactor's own poll request was rejected", metadata: ["error": "\(error)"])
            if request == epollPoll.request { epollPoll.state = .idle } else { wakeupPoll.state = .idle }
            return
        }
        submissionQueue.removeFirst()
        guard let index = io.index(of: request.pointee.userData) else { return }
        io.discard(index)?.resume(throwing: error)
    }

    /// Step 3: collects socket readiness while sockets keep being ready, and reaps the
    /// ring in user space until it is empty; returns how many events and completions.
    /// With nothing left to run and nothing that can complete in the ring, readiness is
    /// left to the blocking step's `epoll_wait`, which returns at once if sockets are
    /// ready: one system call where a poll and then a sleep would be two.
    ///
    /// Never two ticks in a row: when the tick that left it did not reach `epoll_wait`
    /// (a timer fired, or work arrived from another thread), this one collects.
    func reapCompletions() -> Int {
        var total = 0
        if epollDraining {
            if runQueue.isEmpty && canSleepInEpoll && !readinessLeftToSleep {
                readinessLeftToSleep = true
            } else {
                readinessLeftToSleep = false
                total = drainReadiness()
            }
        }
        while true {
            let reaped: Int
            do {
                reaped = try reaper.reap(into: reapBuffer, minimum: 0, timeout: .zero)
            } catch {
                logger.error("io_getevents failed", metadata: ["error": "\(error)"])
                return total
            }
            dispatch(reaped)
            total += reaped
            if reaped < reapBuffer.count { return total }
        }
    }

    /// Handles the first `count` completions in ``reapBuffer``.
    func dispatch(_ count: Int) {
        counters.completions &+= count
        for position in 0..<count {
            let completion = reapBuffer[position]
            switch completion.userData {
            case InternalPoll.Tag.epoll:
                epollPoll.state = .idle
                if !stopping {
                    if collectReadiness() > 0 { epollDraining = true } else { armEpollPoll() }
                }
            case InternalPoll.Tag.wakeup:
                wakeupPoll.state = .idle
                counters.eventfdReads &+= 1
                _ = try? mailbox.wakeup.drain()
                armWakeupPoll()
            case let token:
                // Only a live request's completion counts (the ring is process memory).
                guard let index = io.index(of: token), io[index].state != .queued else { continue }
                userRequestsInKernel -= 1
                if let (waiter, outcome) = io.complete(index, result: completion.result) { waiter.resume(with: outcome) }
            }
        }
    }

    /// Queues the poll on the epoll descriptor, unless it is queued or in the kernel.
    func armEpollPoll() {
        if epollPoll.state != .idle || stopping { return }
        epollPoll.state = .queued
    }

    /// Queues the poll on the wake-up eventfd, unless it is queued or in the kernel.
    func armWakeupPoll() {
        if wakeupPoll.state != .idle || stopping { return }
        wakeupPoll.state = .queued
    }

    /// While sockets are busy, readiness is collected with one `epoll_wait(0)` per tick,
    /// as an epoll loop would; the epoll poll is re-armed (an `io_submit`) only once a
    /// call finds nothing, or before the reactor sleeps. Returns the events collected.
    func drainReadiness() -> Int {
        let collected = collectReadiness()
        if collected == 0 { stopDraining() }
        return collected
    }

    /// Whether the reactor may sleep in `epoll_wait` instead of the ring: nothing of its
    /// own can complete there (no request in the kernel or waiting to go).
    var canSleepInEpoll: Bool {
        userRequestsInKernel == 0 && submissionQueue.isEmpty && !stopping
    }

    /// Back from draining to the poll in the ring: sockets are watched by the kernel again.
    func stopDraining() {
        epollDraining = false
        readinessLeftToSleep = false
        armEpollPoll()
    }

    /// At stop: withdraws the reactor's own polls (cancelled in the kernel, or unqueued).
    func withdrawInternalPolls() {
        for poll in [epollPoll, wakeupPoll] where poll.state == .inKernel {
            counters.ioCancelCalls &+= 1
            _ = try? reaper.context.cancel(poll.request)
        }
        if epollPoll.state == .queued { epollPoll.state = .idle }
        epollDraining = false
        if wakeupPoll.state == .queued { wakeupPoll.state = .idle }
    }

    /// Whether one of the reactor's own polls is still in the kernel.
    var internalPollsInKernel: Bool {
        epollPoll.state == .inKernel || wakeupPoll.state == .inKernel
    }
}
