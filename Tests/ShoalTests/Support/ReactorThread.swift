import Shoal
import Synchronization

/// Runs `Reactor.run` on a new thread and waits for it, so a test never blocks a thread
/// of Swift's cooperative pool with a reactor loop. Assert on what `body` returns, on
/// the test's own thread.
func runReactor<T: Sendable>(
    configuration: Reactor.Configuration = Reactor.Configuration(),
    _ body: @escaping @Sendable (Reactor) async throws -> T
) throws -> T {
    let outcome = Mutex<Result<T, any Error>?>(nil)
    let thread = try ThreadForTest {
        let result = Result { try Reactor.run(configuration: configuration, body) }
        outcome.withLock { $0 = result }
    }
    thread.join()
    return try outcome.withLock { $0! }.get()
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
