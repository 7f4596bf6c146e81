import ShoalKernel

extension Reactor {
    /// Submits an AIO request and suspends until it completes; returns the kernel's
    /// non-negative result (bytes transferred, or a poll's ready mask).
    ///
    /// The request is queued and goes to the kernel with the rest of the tick's
    /// requests in one `io_submit`; its completion is reaped from the ring in user
    /// space. The request's own user data is replaced by the reactor's.
    ///
    /// `memory`, the memory the request points to, belongs to this call from the
    /// start: it comes back to the caller only with a result. When the call throws,
    /// the memory has been freed, or will be once the kernel is done with it.
    ///
    /// Cancellation: the task resumes promptly with `CancellationError`. A request not
    /// yet submitted is withdrawn; a poll in flight is cancelled in the kernel; a disk
    /// request in flight cannot be stopped, so its memory stays with the reactor until
    /// the kernel has finished with it.
    ///
    /// - Throws: `CancellationError`; `SystemCallError` when the kernel rejects the
    ///   request at `io_submit` or completes it with an error;
    ///   ``ReactorError/stopped(_:)`` after the reactor stopped. Poll requests during
    ///   shutdown throw `CancellationError`: they are waits, like readiness waits.
    ///
    /// `onRelease` runs exactly once, on the reactor thread, when the kernel is done with
    /// the request (or at once, if the request never reached the reactor's table): how
    /// a ``File`` knows when it may close.
    @inline(__always)
    nonisolated(nonsending) func perform(
        _ request: AIORequest, holding memory: IOMemory? = nil, onRelease: (@Sendable () -> Void)? = nil
    ) async throws -> Int64 {
        if currentPhase == .stopped {
            memory?.deallocate()
            onRelease?()
            throw ReactorError.stopped("\(request.operationName) on descriptor \(request.aio_fildes) not submitted")
        }
        guard isOnReactorThread else {
            return try await hop { try await $0.perform(request, holding: memory, onRelease: onRelease) }
        }
        if Task.isCancelled || (request.isPoll && currentPhase != .running) {
            memory?.deallocate()
            onRelease?()
            throw CancellationError()
        }
        let token = io.allocate(request, memory: memory, onRelease: onRelease)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                enqueue(token, .task(continuation))
            }
        } onCancel: {
            self.execute { self.cancelRequest(token) }
        }
    }

    /// Queues an AIO request without suspending: `completion` runs on the reactor thread
    /// with the kernel's non-negative result or the error (reactor thread only).
    ///
    /// `memory` belongs to the reactor from the call on; it comes back with a success,
    /// and is freed on failure or after ``cancelRequest(_:)``. Returns the token that
    /// ``cancelRequest(_:)`` takes, or `nil` when the reactor is stopping: nothing submits
    /// requests any more, so `onRelease` and then `completion`, with
    /// ``ReactorError/stopped(_:)``, have run already (a completion reaped while the
    /// reactor stops may start another request: it fails here, not strands its file).
    @discardableResult
    func submit(
        _ request: AIORequest, holding memory: IOMemory?, onRelease: (() -> Void)? = nil,
        completion: @escaping (Result<Int64, any Error>) -> Void
    ) -> IOTable.Token? {
        if stopping {
            memory?.deallocate()
            onRelease?()
            completion(.failure(ReactorError.stopped("\(request.operationName) was never submitted")))
            return nil
        }
        let token = io.allocate(request, memory: memory, onRelease: onRelease)
        enqueue(token, .callback(completion))
        return token
    }

    private func enqueue(_ token: IOTable.Token, _ waiter: IOWaiter) {
        let index = io.index(of: token)!
        io[index].waiter = waiter
        submissionQueue.append(io[index].request)
    }

    /// The error of a request the kernel completed with `-errno`, with a hint where the
    /// cause is usually alignment.
    static func completionError(_ request: AIORequest, _ result: Int64) -> SystemCallError {
        let errno = Errno(rawValue: Int32(clamping: -result))
        var detail = "AIO \(request.summary)"
        if errno == .invalidArgument && !request.isPoll {
            detail += "; with O_DIRECT, the buffer address, offset and length must be aligned for the file"
        }
        return SystemCallError(call: request.operationName, errno: errno, detail: detail)
    }

    /// Cancels the request `token` if it is still pending (reactor thread).
    func cancelRequest(_ token: IOTable.Token) {
        guard let index = io.index(of: token) else { return }
        switch io[index].state {
        case .queued:
            let pointer = io[index].request
            if let position = submissionQueue.firstIndex(of: pointer) { submissionQueue.remove(at: position) }
            io.discard(index)?.resume(throwing: CancellationError())
        case .inFlight:
            if io[index].request.pointee.isPoll {
                counters.ioCancelCalls &+= 1
                _ = try? reaper.context.cancel(io[index].request)
            }
            io.abandon(index)?.resume(throwing: CancellationError())
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

    /// At stop: fails every request still waiting for submission with
    /// ``ReactorError/stopped(_:)`` (nothing will submit it any more).
    func failQueuedRequests() {
        while let request = submissionQueue.popFirst() {
            guard let index = io.index(of: request.pointee.userData) else { continue }
            io.discard(index)?.resume(
                throwing: ReactorError.stopped("\(request.pointee.operationName) was never submitted"))
        }
    }

    /// Runs `body` on the reactor thread, for callers elsewhere: this function is
    /// `@concurrent`, so it leaves the caller's executor, and `body` then runs with the
    /// reactor as task executor preference.
    ///
    /// Shoal's async APIs are `nonisolated(nonsending)`: on the reactor thread they run
    /// on the caller's executor (a task on the reactor, or an actor pinned to it) with
    /// no hop, and only callers on other threads come through here. Each API checks for
    /// a stopped reactor before it hops, so a call after stop throws instead of hopping
    /// for ever (after stop the hop lands on ``afterStop``, not on the reactor thread).
    @concurrent
    func hop<T: Sendable>(_ body: @escaping @Sendable (Reactor) async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(self) { try await body(self) }
    }
}
