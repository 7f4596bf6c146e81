import CShoal

/// Reaps AIO completions from the kernel's ring in user space, and enters the kernel
/// (`io_getevents`) only when the caller must wait.
///
/// libaio's `io_getevents` makes a system call on every poll unless the ring is
/// empty. A reactor that mixes compute with I/O polls on every turn of its loop, so
/// that is a system call (~400-500 ns) per turn, where reading the ring costs a few
/// nanoseconds. ``reap(into:minimum:timeout:)`` copies completions straight out of
/// the ring whenever that satisfies the call:
///
/// - at least `minimum` completions are ready, or
/// - the timeout is zero (then an empty ring returns 0, with no system call).
///
/// Otherwise it must wait, and it makes one `io_getevents` call, which also returns
/// whatever was already in the ring. It falls back to the system call for good when
/// the ring fails validation, and ``forcesSystemCall`` makes every reap a system call
/// (for `strace` and for before/after benchmarks).
///
/// The reaper is the ring's only consumer: a reaper is non-copyable and owns its
/// context, and it must be used from one thread at a time.
public struct CompletionReaper: ~Copyable {
    /// Running totals of how completions were reaped.
    public struct Counters: Equatable, Sendable {
        /// Reap calls answered from the ring, with no system call.
        public var userSpaceReaps = 0
        /// Completions copied out of the ring in user space.
        public var userSpaceCompletions = 0
        /// `io_getevents` system calls made.
        public var systemCalls = 0
        /// Completions returned by those system calls.
        public var systemCallCompletions = 0

        /// All completions reaped, however they were reaped.
        public var completions: Int { userSpaceCompletions + systemCallCompletions }
    }

    /// The AIO context whose ring this reaper consumes. Submit requests through it.
    public let context: AIOContext
    /// The ring, or `nil` when it failed validation and every reap uses the system call.
    private var ring: CompletionRing?
    /// The ring's `head` as this reaper last left it (or as an `io_getevents` of its own
    /// left it: as many slots further on as it returned): any other value in the ring
    /// means someone else wrote it.
    private var head: UInt32 = 0
    /// Why the ring is not read in user space, or `nil` when it is.
    public private(set) var unusableReason: String?
    /// When `true`, every reap makes the `io_getevents` system call (the libaio
    /// behaviour); results are identical, only the cost differs.
    public var forcesSystemCall: Bool
    /// How completions were reaped so far.
    public private(set) var counters = Counters()

    /// Takes ownership of `context` and validates its ring.
    ///
    /// - Parameters:
    ///   - context: the AIO context whose ring is read; the reaper owns it from now on.
    ///   - forcesSystemCall: start with the system-call path forced.
    /// If the ring fails validation (see ``unusableReason``), every reap makes the
    /// system call instead: slower, never wrong.
    public init(context: consuming AIOContext, forcesSystemCall: Bool = false) {
        let validation = CompletionRing.validate(address: context.id, requested: context.requestedEvents)
        self.context = context
        self.forcesSystemCall = forcesSystemCall
        switch validation {
        case .success(let (ring, head)):
            self.ring = ring
            self.head = head
            self.unusableReason = nil
        case .failure(let reason):
            self.ring = nil
            self.unusableReason = reason.description
        }
    }

    /// The number of ring slots, or `nil` when the ring is not read in user space.
    /// The ring holds at most `slots - 1` completions.
    public var ringSlots: Int? { ring.map { Int($0.slots) } }

    /// Completions waiting in the ring right now, read in user space (no system call);
    /// `nil` when the ring is not read in user space.
    public var readyCount: Int? {
        guard let ring else { return nil }
        // The reaper's own head, not the ring's (which anyone may have written).
        let tail = shoal_load_acquire_u32(ring.tailPointer)
        guard tail < ring.slots else { return nil }
        return Int(ring.distance(from: head, to: tail))
    }

    /// Copies up to `events.count` completions into `events` and returns how many.
    ///
    /// - Parameters:
    ///   - events: where completions go, in the order the kernel posted them.
    ///   - minimum: the fewest completions to wait for (`0...events.count`).
    ///   - timeout: how long to wait for `minimum`: `.zero` never waits, `nil` waits
    ///     without limit. When it expires, fewer than `minimum` may be returned; a
    ///     signal neither ends the wait early nor stretches it.
    /// - Throws: ``SystemCallError`` from `io_getevents` when the kernel had to be asked.
    public mutating func reap(
        into events: UnsafeMutableBufferPointer<AIOCompletion>,
        minimum: Int = 0,
        timeout: Duration? = .zero
    ) throws(SystemCallError) -> Int {
        precondition(
            minimum >= 0 && minimum <= events.count,
            "reap: minimum \(minimum) must be between 0 and the buffer's \(events.count) slots")
        if !forcesSystemCall, let ring {
            if let reaped = reapInUserSpace(ring, into: events, minimum: minimum, timeout: timeout) {
                counters.userSpaceReaps &+= 1
                counters.userSpaceCompletions &+= reaped
                return reaped
            }
        }
        let reaped = try context.getEvents(minimum: minimum, into: events, timeout: timeout)
        counters.systemCalls &+= 1
        counters.systemCallCompletions &+= reaped
        // The kernel consumed the ring inside io_getevents from the head this reaper left
        // and stored its new head: exactly `reaped` slots further on. Anything else, even
        // in range, was written by someone else meanwhile.
        if let ring {
            let published = shoal_load_relaxed_u32(ring.headPointer)
            let expected = UInt32((UInt64(head) + UInt64(reaped)) % UInt64(ring.slots))
            head = expected
            if published != expected {
                giveUp(ring, head: published, tail: shoal_load_acquire_u32(ring.tailPointer))
            }
        }
        return reaped
    }

    /// The user-space half of ``reap(into:minimum:timeout:)``: returns `nil` when the
    /// caller has to wait in the kernel instead.
    @inline(__always)
    private mutating func reapInUserSpace(
        _ ring: CompletionRing,
        into events: UnsafeMutableBufferPointer<AIOCompletion>,
        minimum: Int,
        timeout: Duration?
    ) -> Int? {
        // `head` is ours: only this reaper, or the kernel inside an io_getevents that
        // this reaper made and that has returned, writes it. A relaxed load suffices;
        // it must still be what this reaper left there.
        let published = shoal_load_relaxed_u32(ring.headPointer)
        // Acquire pairs with the kernel's publication of `tail` (it issues smp_wmb()
        // between writing an event and advancing tail): every slot before `tail` is
        // fully written once we see it.
        let tail = shoal_load_acquire_u32(ring.tailPointer)
        guard published == head, tail < ring.slots else {
            giveUp(ring, head: published, tail: tail)
            return nil
        }
        let available = Int(ring.distance(from: head, to: tail))
        // The timeout matters only when too few are ready (and is not looked at
        // otherwise: comparing Durations is a call, and this path runs every tick).
        if available < minimum && !Self.isZero(timeout) { return nil }

        let count = min(available, events.count)
        if count == 0 { return 0 }
        // Copy in at most two pieces: from head to the end of the ring, then from slot 0.
        let first = min(count, Int(ring.slots - head))
        events.baseAddress!.update(from: ring.events + Int(head), count: first)
        if first < count {
            (events.baseAddress! + first).update(from: ring.events, count: count - first)
        }
        // Release: the copies above complete before the kernel can see these slots as
        // free and overwrite them. Publishing head is also what returns the slots to
        // io_submit; a reaper that forgot it would make io_submit fail with EAGAIN.
        let newHead = (head &+ UInt32(count)) % ring.slots
        shoal_store_release_u32(ring.headPointer, newHead)
        head = newHead
        return count
    }

    /// Someone else wrote the ring (the process can, the kernel never would): stop
    /// trusting it. The kernel reads `head` too, so put back the value this reaper knows
    /// is right before every later reap falls back to the system call.
    private mutating func giveUp(_ ring: CompletionRing, head published: UInt32, tail: UInt32) {
        unusableReason =
            CompletionRing.Unusable
            .indicesOutOfRange(head: published, tail: tail, slots: ring.slots).description
        shoal_store_release_u32(ring.headPointer, head)
        self.ring = nil
    }

    /// Whether `timeout` means "do not wait".
    @inline(__always)
    private static func isZero(_ timeout: Duration?) -> Bool {
        guard let timeout else { return false }
        return timeout <= .zero
    }
}
