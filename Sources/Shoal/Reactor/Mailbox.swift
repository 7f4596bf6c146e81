import ShoalKernel
import Synchronization

/// A unit of work for the run queue.
enum Work: Sendable {
    /// A job of a task whose executor preference is the reactor (task executor face).
    case task(UnownedJob)
    /// A job of an actor whose executor is the reactor (serial executor face).
    case actor(UnownedJob)
    /// A closure from ``Reactor/execute(_:)``.
    case closure(@Sendable () -> Void)
}

/// Work that other threads hand to the reactor, and the wake-up protocol.
///
/// Other threads append under a lock. The reactor takes the whole batch once per
/// tick, after a lock-free check of ``pending``. A sender writes the wake-up eventfd
/// only when the reactor is asleep or about to sleep (``sleeping``), and only the
/// first sender after the reactor announced it: the exchange clears the flag.
///
/// The handshake is Dekker's: the reactor stores `sleeping = true` and then loads
/// `pending`; a sender stores to `pending` and then exchanges `sleeping`. With both
/// sequentially consistent, at least one of them sees the other: either the reactor
/// sees the work and does not sleep, or the sender sees the flag and writes the eventfd.
///
/// The reactor sleeps in one of two places (see `docs/architecture.md`): in
/// `io_getevents`, where a poll request in the AIO ring watches ``wakeup``, or in
/// `epoll_wait` while sockets are busy and no disk I/O is in flight, where
/// ``epollWakeup``, registered in the epoll set, wakes it. The reactor says which before
/// it announces the sleep; the sender writes that one.
///
/// When the loop stops, the reactor closes the mailbox and takes what is left in one
/// step under the lock: a post either lands before that (and the reactor handles it)
/// or is refused, so "accepted" always means "handled".
final class Mailbox: Sendable {
    private struct State {
        var items: [Work] = []
        var closed = false
    }

    private let queue = Mutex(State())
    /// Items in ``queue``: read without the lock to skip it when empty.
    let pending = Atomic<Int>(0)
    /// Set by the reactor just before it blocks; cleared by the first waking sender.
    let sleeping = Atomic<Bool>(false)
    /// The eventfd whose poll request in the AIO ring wakes the blocked reactor.
    let wakeup: EventFD
    /// The eventfd in the epoll set that wakes the reactor asleep in `epoll_wait`.
    let epollWakeup: EventFD
    /// Where the reactor sleeps next: written by the reactor before it announces the
    /// sleep (the sequentially consistent store of ``sleeping`` publishes it).
    let sleepsInEpoll = Atomic<Bool>(false)
    /// Eventfd writes made by senders (for ``ReactorStats``).
    let wakeupWrites = Atomic<Int>(0)
    /// Items ever posted (for ``ReactorStats``).
    let posted = Atomic<Int>(0)
    /// Of those, Swift jobs (executor enqueues from other threads).
    let postedJobs = Atomic<Int>(0)

    init() throws(SystemCallError) {
        wakeup = try EventFD()
        epollWakeup = try EventFD()
    }

    /// Appends `work` from any thread, waking the reactor if it sleeps; returns `false`
    /// (and keeps nothing) once the mailbox is closed.
    func post(_ work: Work) -> Bool {
        let accepted = queue.withLock { state in
            if state.closed { return false }
            state.items.append(work)
            pending.add(1, ordering: .sequentiallyConsistent)
            return true
        }
        if !accepted { return false }
        posted.add(1, ordering: .relaxed)
        if case .closure = work {} else { postedJobs.add(1, ordering: .relaxed) }
        if sleeping.exchange(false, ordering: .sequentiallyConsistent) {
            wakeupWrites.add(1, ordering: .relaxed)
            // A saturated counter still leaves the eventfd readable: nothing to handle.
            // The exchange acquired the reactor's announcement, and with it where it sleeps.
            if sleepsInEpoll.load(ordering: .relaxed) {
                _ = try? epollWakeup.signal()
            } else {
                _ = try? wakeup.signal()
            }
        }
        return true
    }

    /// Takes everything posted so far (reactor thread).
    func takeAll() -> [Work] {
        if pending.load(ordering: .relaxed) == 0 { return [] }
        return queue.withLock { state in
            pending.store(0, ordering: .sequentiallyConsistent)
            let batch = state.items
            state.items.removeAll(keepingCapacity: true)
            return batch
        }
    }

    /// Refuses every later post, runs `whileLocked` (no post can slip in meanwhile), and
    /// returns what was posted and not yet taken (reactor thread, once, at stop).
    func close(_ whileLocked: () -> Void) -> [Work] {
        queue.withLock { state in
            state.closed = true
            whileLocked()
            pending.store(0, ordering: .sequentiallyConsistent)
            let batch = state.items
            state.items = []
            return batch
        }
    }

    /// Announces that the reactor is about to block; returns `false` (and withdraws the
    /// announcement) when work arrived meanwhile, so it must not block.
    func prepareToSleep(inEpoll: Bool = false) -> Bool {
        sleepsInEpoll.store(inEpoll, ordering: .relaxed)
        sleeping.store(true, ordering: .sequentiallyConsistent)
        if pending.load(ordering: .sequentiallyConsistent) > 0 {
            sleeping.store(false, ordering: .sequentiallyConsistent)
            return false
        }
        return true
    }

    /// Clears the announcement after the blocking step returned.
    func awake() {
        sleeping.store(false, ordering: .sequentiallyConsistent)
    }
}
