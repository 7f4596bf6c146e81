import HeapModule

/// The reactor's timers: a min-heap of deadlines, cancellable in O(1).
///
/// Cancelling removes the timer's action from a table; its heap entry stays behind
/// and is discarded when it reaches the top (or when such leftovers outnumber the live
/// timers, by a rebuild). Timers with equal deadlines fire in the order they were set.
/// Deadlines are `CLOCK_MONOTONIC` nanoseconds. Reactor thread only.
struct TimerQueue {
    /// What happens when a timer fires.
    enum Action {
        /// Resume a sleeping task.
        case resume(UnsafeContinuation<Void, any Error>)
        /// Run a closure on the reactor.
        case call(() -> Void)
    }

    private struct Entry: Comparable {
        let deadline: UInt64
        let id: UInt64
        static func < (a: Entry, b: Entry) -> Bool {
            (a.deadline, a.id) < (b.deadline, b.id)
        }
    }

    private var heap = Heap<Entry>()
    private var actions: [UInt64: Action] = [:]
    private var nextID: UInt64 = 1

    /// Live (not fired, not cancelled) timers.
    var count: Int { actions.count }

    /// Adds a timer firing at `deadline`; returns its id for ``cancel(_:)``.
    mutating func schedule(at deadline: UInt64, _ action: Action) -> UInt64 {
        let id = nextID
        nextID += 1
        actions[id] = action
        heap.insert(Entry(deadline: deadline, id: id))
        return id
    }

    /// Removes a timer that has not fired; returns its action, or `nil` if it is gone.
    mutating func cancel(_ id: UInt64) -> Action? {
        let action = actions.removeValue(forKey: id)
        if action != nil && heap.count > 64 && heap.count > 2 * actions.count {
            heap = Heap(heap.unordered.filter { actions[$0.id] != nil })
        }
        return action
    }

    /// The earliest live deadline.
    mutating func nextDeadline() -> UInt64? {
        while let top = heap.min {
            if actions[top.id] != nil { return top.deadline }
            heap.removeMin()
        }
        return nil
    }

    /// Removes and returns the action of the earliest timer due at `now`, if any.
    mutating func popExpired(now: UInt64) -> Action? {
        while let top = heap.min, top.deadline <= now {
            heap.removeMin()
            if let action = actions.removeValue(forKey: top.id) { return action }
        }
        return nil
    }

    /// Removes every timer and returns their actions, earliest first.
    mutating func removeAll() -> [Action] {
        var drained: [Action] = []
        while let entry = heap.popMin() {
            if let action = actions.removeValue(forKey: entry.id) { drained.append(action) }
        }
        return drained
    }
}
