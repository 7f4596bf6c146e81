extension Reactor {
    /// Submits an AIO request and suspends until it completes; returns the kernel's
    /// result: bytes transferred, a poll's ready mask, or a negative `errno`.
    ///
    /// The request is queued and goes to the kernel with the rest of the tick's
    /// requests in one `io_submit`; its completion is reaped from the ring in user
    /// space. The request's own user data is replaced by the reactor's.
    ///
    /// Cancellation: the task resumes promptly with `CancellationError`. A request not
    /// yet submitted is withdrawn; a poll in flight is cancelled in the kernel; a disk
    /// request in flight cannot be stopped, so the reactor keeps `owner` alive until
    /// the kernel has finished with it. Pass as `owner` whatever owns the memory the
    /// request points to.
    ///
    /// - Throws: `CancellationError`; ``SystemCallError`` from `io_submit` when the kernel
    ///   rejects the request (a bad descriptor, an unsupported operation);
    ///   ``ReactorError/stopped(_:)`` after the reactor stopped.
    public nonisolated(nonsending) func perform(
        _ request: AIORequest, keepingAlive owner: AnyObject? = nil
    ) async throws -> Int64 {
        guard isOnReactorThread else {
            let owner = UncheckedBox(owner)
            return try await hop { try await $0.perform(request, keepingAlive: owner.value) }
        }
        try Task.checkCancellation()
        if currentPhase == .stopped { throw ReactorError.stopped("AIO request not submitted") }
        let token = io.allocate(request, keepAlive: owner)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                let index = io.index(of: token)!
                io[index].continuation = continuation
                submissionQueue.append(io[index].request)
            }
        } onCancel: {
            self.execute { self.cancelRequest(token) }
        }
    }

    /// Cancels the request `token` if it is still pending (reactor thread).
    func cancelRequest(_ token: IOTable.Token) {
        guard let index = io.index(of: token) else { return }
        switch io[index].state {
        case .queued:
            let pointer = io[index].request
            if let position = submissionQueue.firstIndex(of: pointer) { submissionQueue.remove(at: position) }
            io.release(index)?.resume(throwing: CancellationError())
        case .inFlight:
            if io[index].request.pointee.isPoll {
                counters.ioCancelCalls &+= 1
                _ = try? reaper.context.cancel(io[index].request)
            }
            io[index].state = .abandoned
            let continuation = io[index].continuation
            io[index].continuation = nil
            continuation?.resume(throwing: CancellationError())
        case .abandoned, .free:
            break
        }
    }

    /// Cancels every poll request queued or in flight (at shutdown: they are waits).
    func cancelPollRequests() {
        for token in io.liveTokens() {
            if let index = io.index(of: token), io[index].request.pointee.isPoll { cancelRequest(token) }
        }
    }

    /// Step 2: hands queued requests to the kernel, in batches of up to 256.
    func submitQueued() {
        while !submissionQueue.isEmpty {
            let count = min(submissionQueue.count, submitBatch.count)
            for position in 0..<count { submitBatch[position] = submissionQueue[position] }
            counters.ioSubmitCalls &+= 1
            do {
                let taken = try reaper.context.submit(UnsafeMutableBufferPointer(rebasing: submitBatch[..<count]))
                for _ in 0..<taken { markSubmitted(submissionQueue.removeFirst()) }
                // Zero taken: the context is full. The rest waits for completions.
                if taken == 0 { return }
            } catch {
                rejectSubmission(submissionQueue.removeFirst(), error)
            }
        }
    }

    private func markSubmitted(_ request: UnsafeMutablePointer<AIORequest>) {
        if request == epollPoll || request == wakeupPoll { return }
        if let index = io.index(of: request.pointee.userData) { io[index].state = .inFlight }
    }

    /// The kernel refused `request` at `io_submit`: its task gets the error.
    private func rejectSubmission(_ request: UnsafeMutablePointer<AIORequest>, _ error: SystemCallError) {
        if request == epollPoll || request == wakeupPoll {
            logger.critical("the reactor's own poll request was rejected", metadata: ["error": "\(error)"])
            if request == epollPoll { epollPollArmed = false } else { wakeupPollArmed = false }
            return
        }
        guard let index = io.index(of: request.pointee.userData) else { return }
        io.release(index)?.resume(throwing: error)
    }

    /// Step 3: reaps the ring in user space until it is empty; returns how many.
    func reapCompletions() -> Int {
        var total = 0
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
            case Tag.epoll:
                epollPollArmed = false
                if !stopping {
                    collectReadiness()
                    armEpollPoll()
                }
            case Tag.wakeup:
                wakeupPollArmed = false
                counters.eventfdReads &+= 1
                _ = try? mailbox.wakeup.drain()
                armWakeupPoll()
            case let token:
                guard let index = io.index(of: token) else { continue }
                io.release(index)?.resume(returning: completion.result)
            }
        }
    }

    /// Queues the poll on the epoll descriptor, unless it is queued or in flight.
    func armEpollPoll() {
        if epollPollArmed || stopping { return }
        epollPollArmed = true
        submissionQueue.append(epollPoll)
    }

    /// Queues the poll on the wake-up eventfd, unless it is queued or in flight.
    func armWakeupPoll() {
        if wakeupPollArmed || stopping { return }
        wakeupPollArmed = true
        submissionQueue.append(wakeupPoll)
    }

    /// Whether one of the reactor's own polls is in the kernel (armed, not queued).
    func isInFlight(_ poll: UnsafeMutablePointer<AIORequest>) -> Bool {
        let armed = poll == epollPoll ? epollPollArmed : wakeupPollArmed
        return armed && !submissionQueue.contains(poll)
    }

    /// Removes the reactor's own polls from the submission queue (at stop).
    func dropQueuedInternalPolls() {
        if let position = submissionQueue.firstIndex(of: epollPoll) {
            submissionQueue.remove(at: position)
            epollPollArmed = false
        }
        if let position = submissionQueue.firstIndex(of: wakeupPoll) {
            submissionQueue.remove(at: position)
            wakeupPollArmed = false
        }
    }

    /// Runs `body` on the reactor thread, for callers elsewhere: this function is
    /// `@concurrent`, so it leaves the caller's executor, and `body` then runs with the
    /// reactor as task executor preference.
    ///
    /// Shoal's async APIs are `nonisolated(nonsending)`: on the reactor thread they run
    /// on the caller's executor (a task on the reactor, or an actor pinned to it) with
    /// no hop, and only callers on other threads come through here.
    @concurrent
    func hop<T: Sendable>(_ body: @escaping @Sendable (Reactor) async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(self) { try await body(self) }
    }
}
