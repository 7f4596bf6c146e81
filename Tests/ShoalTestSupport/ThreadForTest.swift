#if canImport(Glibc)
import Glibc
#endif

/// A plain POSIX thread that runs `body` once, for tests that need a second thread.
public final class ThreadForTest: @unchecked Sendable {
    private var thread = pthread_t()
    private var joined = false

    public init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let result = pthread_create(
            &thread, nil,
            { argument in
                let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    /// Waits for the thread to end (once; later calls return at once). One caller at a time.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }

    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}

/// Starts a detached POSIX thread running `body`.
public func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    let thread = ThreadForTest(body)
    _ = thread
}
