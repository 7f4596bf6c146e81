import DequeModule
import Synchronization

extension Reactor {
    /// Calls queued on the blocking-call thread (or waiting for room) at most: a task
    /// that would exceed it waits until a call finishes.
    public static let maximumBlockingCalls = 64

    /// Runs `body`, which may block in the kernel, on the reactor's blocking-call thread,
    /// and returns its result on the reactor thread. The reactor thread never blocks.
    ///
    /// Use it for system calls that have no asynchronous form: `open`, `stat`,
    /// `rename`, `unlink`, `mkdir`, and buffered file I/O. One thread per reactor runs
    /// them one at a time, in order, as Seastar's syscall thread does; at most
    /// ``maximumBlockingCalls`` are queued, and a task past that waits for room. Each
    /// is counted in ``ReactorStats/blockingCalls``.
    ///
    /// Cancellation: a call that has not started is dropped and the task resumes with
    /// `CancellationError`; a call that has started runs to its end (the kernel cannot be
    /// interrupted) and the task gets its result.
    ///
    /// - Throws: what `body` throws; `CancellationError`; ``ReactorError/stopped(_:)``
    ///   after the reactor stopped; `SystemCallError` (`pthread_create`) when the
    ///   thread cannot be started.
    @discardableResult
    public nonisolated(nonsending) func performBlocking<Result: Sendable>(
        _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        if currentPhase == .stopped { throw ReactorError.stopped("blocking call not made") }
        guard isOnReactorThread else {
            return try await hop { try await $0.performBlocking(body) }
        }
        try Task.checkCancellation()
        while blocking.inFlight >= Self.maximumBlockingCalls {
            try await waitForBlockingRoom()
        }
        let handle = BlockingCallHandle()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Result, any Error>) in
                do {
                    let call = try startBlocking(body, afterStop: { continuation.resume(with: $0) }) {
                        continuation.resume(with: $0)
                    }
                    handle.attach(call)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            // The thread skips a call taken away before it started, and resumes the task.
            handle.cancel()
        }
    }

    /// Hands `body` to the blocking-call thread without suspending; `completion` runs on
    /// the reactor thread with the outcome (`CancellationError` if the returned call was
    /// cancelled before it started). Reactor thread only. Does not wait for room: the
    /// caller bounds how many it starts.
    ///
    /// A call that outlives the reactor (the grace period ended first) hands its outcome
    /// to `afterStop` instead, on the blocking-call thread: resume a continuation there,
    /// or release what `completion` would have (`completion` is reactor-confined and is
    /// dropped). Without `afterStop` the outcome is dropped.
    ///
    /// - Throws: ``ReactorError/stopped(_:)`` once the reactor is stopping (a completion
    ///   run while it stops may start another call: nothing would deliver its outcome);
    ///   `SystemCallError` when the thread cannot be started.
    @discardableResult
    func startBlocking<Result: Sendable>(
        _ body: @escaping @Sendable () throws -> Result,
        afterStop: (@Sendable (Swift.Result<Result, any Error>) -> Void)? = nil,
        completion: @escaping (Swift.Result<Result, any Error>) -> Void
    ) throws -> BlockingCallThread.Call {
        if stopping { throw ReactorError.stopped("blocking call not made") }
        let thread = try blocking.thread ?? startBlockingThread()
        blocking.inFlight += 1
        counters.blockingCalls &+= 1
        let deliver = UncheckedBox(completion)
        let call = BlockingCallThread.Call(
            run: { [self] in
                finishBlockingCall(Swift.Result { try body() }, deliver: deliver, afterStop: afterStop)
            },
            skip: { [self] in
                finishBlockingCall(.failure(CancellationError()), deliver: deliver, afterStop: afterStop)
            })
        thread.submit(call)
        return call
    }

    /// Starts the blocking-call thread (reactor thread, once).
    private func startBlockingThread() throws -> BlockingCallThread {
        let thread = try BlockingCallThread(name: "shoal-blocking")
        blocking.thread = thread
        return thread
    }

    /// Runs on the blocking-call thread when a call ends: hands `outcome` to `deliver`
    /// on the reactor thread, which also frees the call's place in the queue. After stop
    /// (the loop waits for every call, so only one that outlived the grace period gets
    /// here) it hands it to `afterStop` here instead, if there is one.
    private nonisolated func finishBlockingCall<Result: Sendable>(
        _ outcome: Swift.Result<Result, any Error>,
        deliver: UncheckedBox<(Swift.Result<Result, any Error>) -> Void>,
        afterStop: (@Sendable (Swift.Result<Result, any Error>) -> Void)?
    ) {
        let accepted = execute { [self] in
            blocking.inFlight -= 1
            blocking.roomWaiters.popFirst()?.continuation.resume()
            deliver.value(outcome)
        }
        if !accepted { afterStop?(outcome) }
    }

    /// Suspends until a blocking call finishes and frees a place (reactor thread).
    private func waitForBlockingRoom() async throws {
        blocking.lastWaiter &+= 1
        let id = blocking.lastWaiter
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                blocking.roomWaiters.append((id, continuation))
            }
        } onCancel: {
            self.execute {
                guard let position = self.blocking.roomWaiters.firstIndex(where: { $0.id == id }) else { return }
                self.blocking.roomWaiters.remove(at: position).continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// At stop: tasks still waiting for room get ``ReactorError/stopped(_:)``, and the
    /// thread ends once the calls it has are done (their tasks get their results).
    func finishBlockingCalls() {
        while let waiter = blocking.roomWaiters.popFirst() {
            waiter.continuation.resume(throwing: ReactorError.stopped("blocking call not made"))
        }
        blocking.thread?.finish()
    }
}

/// The blocking-call thread's state on the reactor side (reactor thread only).
struct BlockingCalls {
    var thread: BlockingCallThread?
    /// Calls handed to the thread whose results are not back on the reactor yet.
    var inFlight = 0
    /// Tasks waiting for a place in the queue, with the ids their cancellation names.
    var roomWaiters = Deque<(id: UInt64, continuation: UnsafeContinuation<Void, any Error>)>()
    var lastWaiter: UInt64 = 0
}

/// The call of one ``Reactor/performBlocking(_:)``, shared with its cancellation handler
/// (which may run on any thread, before or after the call exists).
final class BlockingCallHandle: Sendable {
    private struct State {
        var call: BlockingCallThread.Call?
        var cancelled = false
    }

    private let state = Mutex(State())

    /// Records the call; takes it away at once if the task was cancelled already.
    func attach(_ call: BlockingCallThread.Call) {
        let cancelled = state.withLock { state in
            state.call = call
            return state.cancelled
        }
        if cancelled { _ = call.cancel() }
    }

    /// Takes the call away from the thread if it has not started (now, or when attached).
    func cancel() {
        let call = state.withLock { state in
            state.cancelled = true
            return state.call
        }
        _ = call?.cancel()
    }
}
