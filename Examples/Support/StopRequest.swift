import Synchronization

/// A request to stop a server gracefully, made from any thread: what a
/// swift-service-lifecycle graceful shutdown handler, or any other owner of the
/// process's lifecycle, calls. The first request counts; later ones do nothing.
public final class StopRequest: Sendable {
    private struct State {
        var requested = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// A request not yet made.
    public init() {}

    /// Asks the server to stop (any thread; once is enough).
    public func request() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.requested else { return nil }
            state.requested = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Whether ``request()`` was called.
    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Returns once the stop is requested, or the calling task is cancelled. One waiter
    /// at a time.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.requested || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }?.resume()
        }
    }
}
