import ShoalKernel

/// The AIO requests the reactor owns: queued for submission, or in flight in the kernel.
///
/// Each slot holds a request at a stable address (the kernel reads it at `io_submit`),
/// the waiting task's continuation, and the memory the request points to. The slot owns
/// that memory while the kernel may touch it: when the waiting task has been cancelled
/// and has moved on, the memory is freed only once the completion arrives. A request's
/// user data is its ``Token``: slot index and a generation, so a late completion can
/// never be taken for a newer request. Reactor thread only.
struct IOTable {
    /// Identifies a request: `generation << 32 | index`. Bit 63 is never set (it marks
    /// the reactor's own poll requests).
    typealias Token = UInt64

    enum State {
        case free
        /// Waiting in the submission queue.
        case queued
        /// Submitted; the completion will come through the ring.
        case inFlight
        /// In flight, but its task was resumed with `CancellationError`: the completion
        /// only frees the slot and its memory.
        case abandoned
    }

    struct Slot {
        let request: UnsafeMutablePointer<AIORequest>
        var generation: UInt32 = 0
        var state = State.free
        var waiter: IOWaiter?
        var memory: IOMemory?
        /// Runs when the slot is freed: the kernel is done with the request.
        var onRelease: (() -> Void)?
    }

    private(set) var slots: [Slot] = []
    private var freeList: [Int] = []
    /// Slots queued or in flight (including abandoned ones).
    private(set) var busy = 0
    /// Requests whose task was cancelled while the kernel still owned their memory.
    private(set) var abandonedTotal = 0

    /// Takes a slot for `request` and returns its token; the request's user data is set
    /// to it. The slot owns `memory` from now on.
    mutating func allocate(_ request: AIORequest, memory: IOMemory?, onRelease: (() -> Void)? = nil) -> Token {
        let index: Int
        if let reused = freeList.popLast() {
            index = reused
        } else {
            index = slots.count
            slots.append(Slot(request: .allocate(capacity: 1)))
        }
        slots[index].generation = (slots[index].generation &+ 1) & 0x7fff_ffff
        let token = UInt64(slots[index].generation) << 32 | UInt64(index)
        slots[index].request.initialize(to: request)
        slots[index].request.pointee.userData = token
        slots[index].state = .queued
        slots[index].memory = memory
        slots[index].onRelease = onRelease
        busy += 1
        return token
    }

    /// The slot index for `token`, if it still names a live request.
    func index(of token: Token) -> Int? {
        let index = Int(token & 0xffff_ffff)
        guard index < slots.count, slots[index].state != .free,
            UInt64(slots[index].generation) == token >> 32
        else { return nil }
        return index
    }

    /// The request completed with `result` (bytes, a poll mask, or a negative errno):
    /// frees the slot and returns its waiter with the outcome. On success the memory goes
    /// back to the waiter; on failure, or with no waiter left (abandoned), it is freed.
    mutating func complete(_ index: Int, result: Int64) -> (waiter: IOWaiter, outcome: Result<Int64, any Error>)? {
        let waiter = slots[index].waiter
        let outcome: Result<Int64, any Error>
        if result < 0 {
            slots[index].memory?.deallocate()
            outcome = .failure(Reactor.completionError(slots[index].request.pointee, result))
        } else {
            if waiter == nil { slots[index].memory?.deallocate() }
            outcome = .success(result)
        }
        release(index)
        return waiter.map { ($0, outcome) }
    }

    /// The request never reached the kernel (withdrawn or rejected): frees the slot and
    /// its memory, and returns the waiter for the caller to resume with an error.
    mutating func discard(_ index: Int) -> IOWaiter? {
        slots[index].memory?.deallocate()
        return release(index)
    }

    /// The waiter stops waiting for a request still in the kernel: the slot keeps the
    /// memory until the completion arrives. Returns the waiter to resume.
    mutating func abandon(_ index: Int) -> IOWaiter? {
        let waiter = slots[index].waiter
        slots[index].waiter = nil
        slots[index].state = .abandoned
        abandonedTotal += 1
        return waiter
    }

    @discardableResult
    private mutating func release(_ index: Int) -> IOWaiter? {
        let waiter = slots[index].waiter
        let onRelease = slots[index].onRelease
        slots[index].onRelease = nil
        slots[index].waiter = nil
        slots[index].memory = nil
        slots[index].state = .free
        freeList.append(index)
        busy -= 1
        onRelease?()
        return waiter
    }

    /// Tokens of every queued or in-flight request.
    func liveTokens() -> [Token] {
        slots.indices.compactMap { index in
            slots[index].state == .free ? nil : UInt64(slots[index].generation) << 32 | UInt64(index)
        }
    }

    subscript(index: Int) -> Slot {
        get { slots[index] }
        set { slots[index] = newValue }
    }

    /// Frees the request memory. Only when nothing is queued or in flight.
    func deallocateAll() {
        precondition(busy == 0, "AIO requests are still in flight")
        for slot in slots { slot.request.deallocate() }
    }
}

/// Who waits for an AIO request: a suspended task, or a closure run on the reactor
/// thread (streams keep several requests in flight without a task for each).
enum IOWaiter {
    case task(UnsafeContinuation<Int64, any Error>)
    case callback((Result<Int64, any Error>) -> Void)

    func resume(with outcome: Result<Int64, any Error>) {
        switch self {
        case .task(let continuation): continuation.resume(with: outcome)
        case .callback(let body): body(outcome)
        }
    }

    func resume(throwing error: any Error) {
        resume(with: .failure(error))
    }
}
