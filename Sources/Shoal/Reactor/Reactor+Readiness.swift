import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

extension Reactor {
    /// Registers `descriptor` for readiness waits (epoll, edge-triggered, once).
    ///
    /// Call on the reactor thread. Keep the descriptor non-blocking; try the read or
    /// write first, and ``wait(for:on:)`` only when it would block. Call
    /// ``deregister(_:)`` before closing the descriptor.
    ///
    /// - Throws: `SystemCallError` from `epoll_ctl` (for example `EPERM` for a regular
    ///   file, which is always ready: read files with ``read(from:at:into:count:)``);
    ///   ``ReactorError/stopped(_:)`` after the reactor stopped.
    public func register(_ descriptor: FileDescriptor) throws -> IORegistration {
        if currentPhase == .stopped { throw ReactorError.stopped("descriptor \(descriptor.rawValue) not registered") }
        precondition(isOnReactorThread, "Reactor.register must be called on the reactor thread")
        let registration = readiness.add(descriptor)
        do {
            try epoll.add(descriptor, events: [.readable, .writable, .readHangUp, .edgeTriggered], token: registration.token)
        } catch {
            _ = readiness.remove(Int(registration.index))
            guard error.errno == .notPermitted else { throw error }
            throw SystemCallError(
                call: error.call, errno: error.errno,
                detail: "\(error.detail ?? ""): a regular file is always ready and cannot be watched; "
                    + "read it with read(from:at:into:)")
        }
        return registration
    }

    /// Removes a registration. Tasks waiting on it resume with
    /// ``ReactorError/deregistered(descriptor:)``. Call on the reactor thread, before
    /// closing the descriptor; a registration already removed is ignored, and so is
    /// every call after the reactor stopped.
    public func deregister(_ registration: IORegistration) {
        if currentPhase == .stopped { return }
        precondition(isOnReactorThread, "Reactor.deregister must be called on the reactor thread")
        guard let index = readiness.index(of: registration.token) else { return }
        // The descriptor may already be closed, which removed it from epoll: not an error.
        try? epoll.remove(registration.descriptor)
        for waiter in readiness.remove(index) {
            waiter.resume(throwing: ReactorError.deregistered(descriptor: registration.descriptor))
        }
    }

    /// Suspends until the registered descriptor is ready for `interest`.
    ///
    /// Returns at once if an edge arrived since the last wait (so no readiness is lost
    /// between a would-block and this call). One reader and one writer may wait per
    /// registration at a time.
    ///
    /// - Throws: `CancellationError` when the task is cancelled or the reactor shuts
    ///   down (a cancellation reaches only the wait it was meant for);
    ///   ``ReactorError/deregistered(descriptor:)`` when the registration is gone;
    ///   ``ReactorError/alreadyWaiting(descriptor:interest:)`` when another task waits
    ///   for the same readiness on it; ``ReactorError/stopped(_:)`` after the reactor stopped.
    public nonisolated(nonsending) func wait(for interest: Interest, on registration: IORegistration) async throws {
        if currentPhase == .stopped {
            throw ReactorError.stopped("no readiness wait on descriptor \(registration.descriptor.rawValue)")
        }
        guard isOnReactorThread else {
            return try await hop { try await $0.wait(for: interest, on: registration) }
        }
        try await wait(for: interest, on: registration, deadline: nil)
    }

    /// A readiness wait that, if it suspends, ends at `deadline` (monotonic ns) with
    /// `timeout()`: a timer of the reactor's, set only when the task must wait.
    /// Reactor thread only.
    nonisolated(nonsending) func wait(
        for interest: Interest, on registration: IORegistration, deadline: UInt64?,
        timeout: @autoclosure () -> TimeoutError = TimeoutError(limit: .zero)
    ) async throws {
        try Task.checkCancellation()
        let token = registration.token
        guard let index = readiness.index(of: token) else {
            throw ReactorError.deregistered(descriptor: registration.descriptor)
        }
        guard currentPhase == .running else { throw CancellationError() }
        if readiness[index].consumeEdge(interest) { return }
        if readiness[index][waiter: interest] != nil {
            throw ReactorError.alreadyWaiting(descriptor: registration.descriptor, interest: interest)
        }
        let wait = readiness.nextWaitID()
        var timer: UInt64?
        if let deadline {
            let error = timeout()
            timer = timers.schedule(at: deadline, .call { self.timeOutWait(wait, for: interest, on: token, error) })
        }
        defer { if let timer { _ = timers.cancel(timer) } }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                readiness[index][waiter: interest] = ReadinessTable.Waiter(id: wait, continuation: continuation)
            }
        } onCancel: {
            self.execute { self.cancelWait(wait, for: interest, on: token) }
        }
    }

    /// Resumes the wait `wait` with `error` when its deadline passed, if it still waits.
    private func timeOutWait(_ wait: UInt64, for interest: Interest, on token: UInt64, _ error: TimeoutError) {
        guard let index = readiness.index(of: token), readiness[index][waiter: interest]?.id == wait else { return }
        readiness[index].takeWaiter(interest)?.resume(throwing: error)
    }

    /// Resumes the wait `wait` with `CancellationError`, if it still waits: an edge
    /// may have resumed it first, and another task may wait on the registration now.
    private func cancelWait(_ wait: UInt64, for interest: Interest, on token: UInt64) {
        guard let index = readiness.index(of: token), readiness[index][waiter: interest]?.id == wait else { return }
        readiness[index].takeWaiter(interest)?.resume(throwing: CancellationError())
    }

    /// Ends a registration and closes its descriptor on the reactor thread: at once when
    /// called there, posted from other threads; once the reactor has stopped (nothing is
    /// registered any more), the descriptor is closed on the caller's thread. `before`
    /// runs first, on the same thread (a socket's `SO_LINGER`, say).
    func closeRegistered(
        _ registration: IORegistration, before: (@Sendable () -> Void)? = nil
    ) {
        let finish: @Sendable () -> Void = { [self] in
            before?()
            deregister(registration)
            _ = Glibc.close(registration.descriptor.rawValue)
        }
        if isOnReactorThread || !execute(finish) { finish() }
    }

    /// Whether the peer of `registration` hung up (or an error is pending) in an event
    /// seen so far. Reactor thread only.
    func peerHungUp(_ registration: IORegistration) -> Bool {
        guard let index = readiness.index(of: registration.token) else { return true }
        return readiness[index].hungUp
    }

    /// The epoll token of the eventfd that wakes a reactor asleep in `epoll_wait`: it
    /// matches no registration (their tokens carry an index below `UInt32.max`).
    static let epollWakeupToken = UInt64.max

    /// Collects socket readiness: one `epoll_wait(0)`. Returns the events it found for
    /// registered descriptors.
    @discardableResult
    func collectReadiness() -> Int {
        counters.epollWaitCalls &+= 1
        let count: Int
        do {
            count = try epoll.wait(into: epollBuffer, timeout: .zero)
        } catch {
            logger.error("epoll_wait failed", metadata: ["error": "\(error)"])
            return 0
        }
        return handleReadiness(count)
    }

    /// Resumes the waiters of the first `count` events in ``epollBuffer``; returns how
    /// many were for registered descriptors (a wake-up from another thread is not).
    func handleReadiness(_ count: Int) -> Int {
        let readableBits: Epoll.Events = [.readable, .readHangUp, .hangUp, .error]
        let writableBits: Epoll.Events = [.writable, .hangUp, .error]
        let hangUpBits: Epoll.Events = [.readHangUp, .hangUp, .error]
        var found = 0
        for position in 0..<count {
            let event = epollBuffer[position]
            if event.token == Self.epollWakeupToken {
                counters.eventfdReads &+= 1
                _ = try? mailbox.epollWakeup.drain()
                continue
            }
            found += 1
            // A stale token (deregistered, maybe reused descriptor) matches no entry.
            guard let index = readiness.index(of: event.token) else { continue }
            let ready = event.readiness
            if !ready.isDisjoint(with: hangUpBits) { readiness[index].hungUp = true }
            if !ready.isDisjoint(with: readableBits) { readiness[index].signal(.readable)?.resume() }
            if !ready.isDisjoint(with: writableBits) { readiness[index].signal(.writable)?.resume() }
        }
        return found
    }
}
