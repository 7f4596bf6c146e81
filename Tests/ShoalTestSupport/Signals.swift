import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Sends `SIGUSR1`, which has a handler that does nothing, to one thread every few
/// milliseconds: what a profiler's `SIGPROF` or a `SIGCHLD` handler does to a blocked
/// system call (it returns early with `EINTR` or with what it has).
public final class SignalPesterer: @unchecked Sendable {
    private let stop = Atomic<Bool>(false)
    private let sent = Atomic<Int>(0)
    private var thread: ThreadForTest?

    /// Installs the handler, unblocks `SIGUSR1` in the calling thread (Swift's thread
    /// pool blocks it), and starts signalling the calling thread every `interval`
    /// microseconds, `limit` times at most.
    public init(everyMicroseconds interval: UInt32, limit: Int) {
        self.limit = limit
        Self.installHandler()
        Self.unblockInCallingThread()
        let target = pthread_self()
        thread = ThreadForTest { [self] in
            while !self.stop.load(ordering: .relaxed) && self.sent.load(ordering: .relaxed) < limit {
                usleep(interval)
                pthread_kill(target, SIGUSR1)
                self.sent.add(1, ordering: .relaxed)
            }
        }
    }

    /// The most signals it sends.
    public let limit: Int

    /// Signals sent so far.
    public var signalsSent: Int { sent.load(ordering: .relaxed) }

    /// Stops signalling and waits for the signaller to end.
    public func finish() {
        stop.store(true, ordering: .relaxed)
        thread?.join()
        thread = nil
    }

    private static func installHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: blocked calls return EINTR
        sigaction(SIGUSR1, &action, nil)
    }

    private static func unblockInCallingThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR1)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
