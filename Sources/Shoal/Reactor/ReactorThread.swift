import CShoal
import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

/// Starts the thread of a reactor run from `async` code.
enum ReactorThread {
    /// Starts a detached thread named `name` that runs `body` once.
    ///
    /// - Throws: `SystemCallError` (`pthread_create`) when no thread can be started.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemCallError) {
        final class Start {
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { argument in
                let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
                shoal_set_thread_name(start.name)
                start.body()
                return nil
            }, start)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            throw SystemCallError(call: "pthread_create", errno: Errno(rawValue: result), detail: "thread \(name)")
        }
        pthread_detach(thread)
    }

    /// Drops a reference to `reactor` on a short-lived thread, so that when it is the
    /// last one the reactor's teardown (`io_destroy`, which waits for an RCU grace
    /// period) does not hold up the caller. Falls back to the caller's thread.
    static func release(_ reactor: Reactor) {
        let handoff = Unmanaged.passRetained(reactor)
        let address = UInt(bitPattern: handoff.toOpaque())
        do {
            try start(name: "shoal-release") {
                Unmanaged<Reactor>.fromOpaque(UnsafeRawPointer(bitPattern: address)!).release()
            }
        } catch {
            handoff.release()
        }
    }
}
