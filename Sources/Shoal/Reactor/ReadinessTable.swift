public import SystemPackage

/// A descriptor registered with a reactor for readiness waits.
///
/// Returned by ``Reactor/register(_:)``. Registration is edge-triggered and made once;
/// the generation protects against descriptor reuse: after ``Reactor/deregister(_:)``
/// a late event for the old registration is ignored even if the number is reused.
public struct IORegistration: Hashable, Sendable {
    /// The registered descriptor.
    public let descriptor: FileDescriptor
    let index: UInt32
    let generation: UInt32

    /// The epoll token: `generation << 32 | index`.
    var token: UInt64 { UInt64(generation) << 32 | UInt64(index) }
}

/// What a task can wait for on a registered descriptor.
public enum Interest: Sendable, Hashable {
    /// Readable, or the peer hung up, or an error is pending.
    case readable
    /// Writable, or an error is pending.
    case writable
}

/// Registered descriptors, their latched readiness and their waiting tasks. Reactor thread only.
struct ReadinessTable {
    /// A waiting task, with the id of its wait: a cancellation names the wait it is
    /// for, so it can never resume a later wait on the same registration.
    struct Waiter {
        let id: UInt64
        let continuation: UnsafeContinuation<Void, any Error>
    }

    struct Entry {
        var descriptor = FileDescriptor(rawValue: -1)
        var generation: UInt32 = 0
        var live = false
        /// Edges seen and not yet consumed by a wait.
        var readable = false
        var writable = false
        /// The peer hung up or an error is pending: sticky until the registration ends.
        /// A short read then no longer means the socket is drained (the end of the
        /// stream may have come with the last bytes, in the same edge).
        var hungUp = false
        var reader: Waiter?
        var writer: Waiter?

        /// The task waiting for `interest`.
        subscript(waiter interest: Interest) -> Waiter? {
            get { interest == .readable ? reader : writer }
            set { if interest == .readable { reader = newValue } else { writer = newValue } }
        }

        /// Whether an edge for `interest` arrived since the last wait.
        subscript(edge interest: Interest) -> Bool {
            get { interest == .readable ? readable : writable }
            set { if interest == .readable { readable = newValue } else { writable = newValue } }
        }

        /// Removes and returns the task waiting for `interest`.
        mutating func takeWaiter(_ interest: Interest) -> UnsafeContinuation<Void, any Error>? {
            defer { self[waiter: interest] = nil }
            return self[waiter: interest]?.continuation
        }

        /// An edge for `interest` arrived: returns the waiting task to resume, or
        /// latches the edge for the next wait.
        mutating func signal(_ interest: Interest) -> UnsafeContinuation<Void, any Error>? {
            if let waiter = takeWaiter(interest) { return waiter }
            self[edge: interest] = true
            return nil
        }

        /// Consumes a latched edge for `interest`; `true` if there was one.
        mutating func consumeEdge(_ interest: Interest) -> Bool {
            defer { self[edge: interest] = false }
            return self[edge: interest]
        }
    }

    private var entries: [Entry] = []
    private var freeList: [Int] = []
    private var lastWaitID: UInt64 = 0

    /// A fresh id for a wait.
    mutating func nextWaitID() -> UInt64 {
        lastWaitID &+= 1
        return lastWaitID
    }

    /// Live registrations.
    private(set) var count = 0

    mutating func add(_ descriptor: FileDescriptor) -> IORegistration {
        let index: Int
        if let reused = freeList.popLast() {
            index = reused
        } else {
            index = entries.count
            entries.append(Entry())
        }
        let generation = entries[index].generation &+ 1
        entries[index] = Entry(descriptor: descriptor, generation: generation, live: true)
        count += 1
        return IORegistration(descriptor: descriptor, index: UInt32(index), generation: generation)
    }

    /// The entry index for a registration or epoll token, if still live.
    func index(of token: UInt64) -> Int? {
        let index = Int(token & 0xffff_ffff)
        guard index < entries.count, entries[index].live,
            UInt64(entries[index].generation) == token >> 32
        else { return nil }
        return index
    }

    subscript(index: Int) -> Entry {
        get { entries[index] }
        set { entries[index] = newValue }
    }

    /// Removes a registration; returns the waiters for the caller to resume.
    mutating func remove(_ index: Int) -> [UnsafeContinuation<Void, any Error>] {
        let waiters = [entries[index].reader, entries[index].writer].compactMap { $0?.continuation }
        let generation = entries[index].generation
        entries[index] = Entry(generation: generation)
        freeList.append(index)
        count -= 1
        return waiters
    }

    /// Every waiting task, removed from its entry (for shutdown).
    mutating func takeAllWaiters() -> [UnsafeContinuation<Void, any Error>] {
        var waiters: [UnsafeContinuation<Void, any Error>] = []
        for index in entries.indices {
            if let reader = entries[index].reader { waiters.append(reader.continuation) }
            if let writer = entries[index].writer { waiters.append(writer.continuation) }
            entries[index].reader = nil
            entries[index].writer = nil
        }
        return waiters
    }
}
