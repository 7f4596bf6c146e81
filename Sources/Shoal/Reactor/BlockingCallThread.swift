import CShoal
import DequeModule
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The thread that makes a reactor's blocking system calls: one per reactor, as
/// Seastar's syscall thread, started with the first call.
///
/// `open`, `stat`, `rename`, `unlink`, `fsync` where the file system has no
/// asynchronous one, and buffered reads and writes that miss the page cache can block
/// in the kernel for as long as the disk (or the network file server) takes. They run
/// here, one at a time and in order, and their results go back to the reactor thread,
/// which never blocks on them. The reactor bounds how many are queued
/// (``Reactor/maximumBlockingCalls``); this type is only the thread and its queue.
final class BlockingCallThread: @unchecked Sendable {
    /// A call: `run` is skipped when the call was cancelled before it started.
    final class Call: @unchecked Sendable {
        enum State: UInt8 { case queued, running, cancelled }
        let state = Atomic<UInt8>(State.queued.rawValue)
        let run: @Sendable () -> Void
        let skip: @Sendable () -> Void

        init(run: @escaping @Sendable () -> Void, skip: @escaping @Sendable () -> Void) {
            self.run = run
            self.skip = skip
        }

        /// Takes the call away from the thread if it has not started; `true` if it had not.
        func cancel() -> Bool {
            state.compareExchange(
                expected: State.queued.rawValue, desired: State.cancelled.rawValue, ordering: .acquiringAndReleasing
            ).exchanged
        }
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue = Deque<Call>()
    private var finishing = false

    /// Starts the thread, named `name`.
    init(name: String) throws(SystemCallError) {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        do {
            try ReactorThread.start(name: name) { [self] in self.serve() }
        } catch {
            pthread_cond_destroy(condition)
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
            condition.deallocate()
            throw error
        }
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Queues `call` behind the calls before it.
    func submit(_ call: Call) {
        pthread_mutex_lock(mutex)
        queue.append(call)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Lets the thread end once its queue is empty (the reactor has stopped).
    func finish() {
        pthread_mutex_lock(mutex)
        finishing = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// The thread's loop: one call at a time, until finished and empty.
    private func serve() {
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty && !finishing { pthread_cond_wait(condition, mutex) }
            guard let call = queue.popFirst() else {
                pthread_mutex_unlock(mutex)
                return
            }
            pthread_mutex_unlock(mutex)
            let started = call.state.compareExchange(
                expected: Call.State.queued.rawValue, desired: Call.State.running.rawValue,
                ordering: .acquiringAndReleasing
            ).exchanged
            if started { call.run() } else { call.skip() }
        }
    }
}
