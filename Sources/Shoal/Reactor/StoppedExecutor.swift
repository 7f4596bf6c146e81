import Dispatch
import Synchronization

/// Where a stopped reactor's late jobs run: a serial queue, one job at a time.
///
/// After the loop has returned, tasks that still prefer the reactor, and actors pinned
/// to it, keep getting jobs (a continuation resumed from elsewhere, an actor call). They
/// run here, in order and never two at once, so an actor pinned to the reactor keeps its
/// mutual exclusion; Shoal's own waits throw ``ReactorError/stopped(_:)`` for them.
/// The queue is made when the first late job arrives, so a reactor that never has one
/// never starts Dispatch's threads.
final class StoppedExecutor: Sendable {
    private let queue = Mutex<DispatchQueue?>(nil)
    private static let key = DispatchSpecificKey<ObjectIdentifier>()

    /// Runs `body` after the work submitted before it.
    func submit(_ body: @escaping @Sendable () -> Void) {
        let queue = queue.withLock { queue in
            if let queue { return queue }
            let made = DispatchQueue(label: "shoal.reactor.stopped")
            made.setSpecific(key: Self.key, value: ObjectIdentifier(self))
            queue = made
            return made
        }
        queue.async(execute: body)
    }

    /// Whether the caller runs on this queue.
    var isCurrent: Bool {
        DispatchQueue.getSpecific(key: Self.key) == ObjectIdentifier(self)
    }
}
