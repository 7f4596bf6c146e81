#if canImport(Glibc)
import Glibc
#endif

/// A plain POSIX thread that runs `body` once, for tests that need a second thread.
final class ThreadForTest {
    private var thread = pthread_t()

    init(_ body: @escaping @Sendable () -> Void) throws {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let result = pthread_create(&thread, nil, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if result != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemCallErrorForTest(call: "pthread_create", code: result)
        }
    }

    func join() {
        pthread_join(thread, nil)
    }

    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}

struct SystemCallErrorForTest: Error {
    let call: String
    let code: Int32
}
