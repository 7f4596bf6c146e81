import Shoal
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a reactor on a thread of its own, and waits for it. A plain thread
/// running `Reactor.runOnCurrentThread` (not `try await Reactor.run`, which would start
/// Swift's thread pool and its epoll loop), so `strace -f` sees the reactor's system
/// calls and nothing else.
func runReactor<T: Sendable>(
    configuration: Reactor.Configuration = Reactor.Configuration(),
    _ body: @escaping @Sendable (Reactor) async throws -> T
) throws -> T {
    let outcome = Mutex<Result<T, any Error>?>(nil)
    let run = Run { outcome.withLock { $0 = Result { try Reactor.runOnCurrentThread(configuration: configuration, body) } } }
    var thread = pthread_t()
    let started = pthread_create(
        &thread, nil,
        { argument in
            Unmanaged<Run>.fromOpaque(argument!).takeRetainedValue().work()
            return nil
        }, Unmanaged.passRetained(run).toOpaque())
    guard started == 0 else { throw BenchError("pthread_create failed: \(started)") }
    pthread_join(thread, nil)
    return try outcome.withLock { $0! }.get()
}

/// A closure handed to a new thread.
private final class Run: @unchecked Sendable {
    let work: () -> Void
    init(_ work: @escaping () -> Void) { self.work = work }
}
