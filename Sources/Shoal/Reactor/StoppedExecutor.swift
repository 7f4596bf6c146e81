import Dispatch
import Synchronization

/// Where a stopped reactor's late jobs run: a serial queue, one job at a time.
///
/// After the loop has returned, tasks that still prefer the reactor, and actors pinned
/// to it, keep getting jobs (a continuation resumed from elsewhere, an actor call). They
/// run here, in order and never two at once, so an actor pinned to the reactor keeps its
/// mutual exclusion; Shoal's own waits throw ``ReactorError/stopped(_:)`` for them.
/// The queue is made when the first late job arrives, and runs nothing until the
/// reactor thread has run the last closures it accepted.
final class StoppedExecutor: Sendable {
    private struct State {
        var queue: DispatchQueue?
        var held = false
        var waiting: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private static let key = DispatchSpecificKey<ObjectIdentifier>()

    /// Runs `body` after the work submitted before it.
    func submit(_ body: @escaping @Sendable () -> Void) {
        state.withLock { state in
            if state.held {
                state.waiting.append(body)
            } else {
                made(&state).async(execute: body)
            }
        }
    }

    /// Holds submitted work until ``release()``: the reactor thread finishes its last
    /// closures first.
    func hold() {
        state.withLock { $0.held = true }
    }

    /// Lets held work run, in the order it was submitted.
    func release() {
        state.withLock { state in
            state.held = false
            guard !state.waiting.isEmpty else { return }
            let queue = made(&state)
            for body in state.waiting { queue.async(execute: body) }
            state.waiting = []
        }
    }

    /// The queue, made on first use: a reactor with no late work starts no Dispatch thread.
    private func made(_ state: inout State) -> DispatchQueue {
        if let queue = state.queue { return queue }
        let queue = DispatchQueue(label: "shoal.reactor.stopped")
        queue.setSpecific(key: Self.key, value: ObjectIdentifier(self))
        state.queue = queue
        return queue
    }

    /// Whether the caller runs on this queue.
    var isCurrent: Bool {
        DispatchQueue.getSpecific(key: Self.key) == ObjectIdentifier(self)
    }
}
