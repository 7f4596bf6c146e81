import Dispatch
import Synchronization

/// Where a stopped reactor's late jobs run: a serial queue, one job at a time.
///
/// After the loop has returned, tasks that still prefer the reactor, and actors pinned
/// to it, keep getting jobs (a continuation resumed from elsewhere, an actor call). They
/// run here, in order and never two at once, so an actor pinned to the reactor keeps its
/// mutual exclusion; Shoal's own waits throw ``ReactorError/stopped(_:)`` for them.
/// The queue is made when the reactor stops, and runs nothing until the reactor thread
/// has run the last closures it accepted.
final class StoppedExecutor: Sendable {
    private let queue = Mutex<DispatchQueue?>(nil)
    private static let key = DispatchSpecificKey<ObjectIdentifier>()

    /// Runs `body` after the work submitted before it.
    func submit(_ body: @escaping @Sendable () -> Void) {
        made().async(execute: body)
    }

    /// Holds submitted work until ``release()``: the reactor thread finishes its last
    /// closures first.
    func hold() {
        made().suspend()
    }

    /// Lets held work run.
    func release() {
        made().resume()
    }

    private func made() -> DispatchQueue {
        queue.withLock { queue in
            if let queue { return queue }
            let made = DispatchQueue(label: "shoal.reactor.stopped")
            made.setSpecific(key: Self.key, value: ObjectIdentifier(self))
            queue = made
            return made
        }
    }

    /// Whether the caller runs on this queue.
    var isCurrent: Bool {
        DispatchQueue.getSpecific(key: Self.key) == ObjectIdentifier(self)
    }
}
