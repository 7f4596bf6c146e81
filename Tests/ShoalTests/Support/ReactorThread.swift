import Shoal
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs `Reactor.run` on a new thread and awaits its result without blocking a thread of
/// Swift's cooperative pool (tests run in parallel on it, and a reactor's late jobs may
/// need it). Assert on what `body` returns, in the test.
func runReactor<T: Sendable>(
    configuration: Reactor.Configuration = Reactor.Configuration(),
    _ body: @escaping @Sendable (Reactor) async throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        startDetachedThread {
            continuation.resume(with: Result { try Reactor.run(configuration: configuration, body) })
        }
    }
}

/// Starts a detached POSIX thread running `body`.
func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    let result = pthread_create(&thread, nil, { argument in
        Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
        return nil
    }, box)
    precondition(result == 0, "pthread_create failed: \(result)")
    pthread_detach(thread)
}

/// A value shared between tasks and threads in tests.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
    func update<R>(_ body: (inout Value) -> R) -> R { storage.withLock { body(&$0) } }
}
