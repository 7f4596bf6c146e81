import CShoal
import DequeModule
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A single-threaded reactor: one thread runs compute tasks, drives Linux AIO and
/// epoll readiness, fires timers, and blocks only when there is nothing to do.
///
/// Start one with ``run(configuration:_:)``, which runs the loop on the calling thread
/// until the root task returns. Swift tasks run on it by executor preference (the
/// root task and everything it starts with `async let`, task groups or ``spawn(_:)``),
/// actors run on it through ``unownedSerialExecutor``, and code after every `await`
/// comes back to the reactor thread. See `docs/architecture.md` for the tick.
///
/// All state is confined to the reactor thread; the members that other threads may
/// use say so (``execute(_:)``, ``isOnReactorThread``, the executor entry points).
public final class Reactor: @unchecked Sendable {
    /// The configuration the reactor was started with.
    public let configuration: Configuration
    let logger: Logger
    /// The thread that runs the loop.
    let thread: pthread_t
    /// The task quota in nanoseconds.
    let quotaNanoseconds: UInt64

    // MARK: Run queue (reactor thread) and mailbox (any thread)

    var runQueue = Deque<Work>()
    let mailbox: Mailbox
    /// When the current tick's task phase must end (monotonic ns).
    var taskDeadline: UInt64 = 0

    // MARK: I/O

    var reaper: CompletionReaper
    let epoll: Epoll
    var io = IOTable()
    var readiness = ReadinessTable()
    /// Requests waiting for `io_submit`, oldest first.
    var submissionQueue = Deque<UnsafeMutablePointer<AIORequest>>()
    /// Scratch space for one `io_submit` batch.
    let submitBatch: UnsafeMutableBufferPointer<UnsafeMutablePointer<AIORequest>?>
    /// Scratch space for reaped completions.
    let reapBuffer: UnsafeMutableBufferPointer<AIOCompletion>
    /// Scratch space for `epoll_wait`.
    let epollBuffer: UnsafeMutableBufferPointer<EpollEvent>
    /// The reactor's own poll requests: on the epoll descriptor, and on the wake-up eventfd.
    let epollPoll: UnsafeMutablePointer<AIORequest>
    let wakeupPoll: UnsafeMutablePointer<AIORequest>
    var epollPollArmed = false
    var wakeupPollArmed = false

    // MARK: Timers

    var timers = TimerQueue()

    // MARK: Lifecycle and counters

    /// The loop's phase, readable from any thread.
    let phase = Atomic<UInt8>(Phase.running.rawValue)
    var rootFinished = false
    /// When shutdown gives up on queued work (monotonic ns), set when it begins.
    var shutdownDeadline: UInt64 = 0
    /// Set by ``stop()``: the reactor's own polls are no longer re-armed.
    var stopping = false
    var counters = ReactorStats()
    /// Jobs and closures that arrived after the loop stopped (any thread).
    let lateWork = Atomic<Int>(0)
    /// The serial-executor face: actors whose executor is this reactor enqueue here.
    /// Set once at the end of `init`, read from any thread afterwards.
    private(set) var serialFace: SerialFace!

    enum Phase: UInt8 {
        /// Running the root task and everything else.
        case running
        /// The root task returned: finishing what is left (see `docs/architecture.md`).
        case shuttingDown
        /// The loop has returned; late jobs go to the global executor.
        case stopped
    }

    /// User data of the reactor's own poll requests (bit 63 set: never an ``IOTable`` token).
    enum Tag {
        static let epoll: UInt64 = 1 << 63 | 1
        static let wakeup: UInt64 = 1 << 63 | 2
    }

    /// Creates a reactor owned by the calling thread.
    init(configuration: Configuration) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = configuration.logger
        self.thread = pthread_self()
        let (seconds, attoseconds) = configuration.taskQuota.components
        self.quotaNanoseconds = UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
        self.mailbox = try Mailbox()
        self.reaper = CompletionReaper(
            context: try AIOContext(maximumEvents: configuration.maximumIOInFlight),
            forcesSystemCall: configuration.forcesSystemCallReap)
        self.epoll = try Epoll()
        submitBatch = .allocate(capacity: 256)
        reapBuffer = .allocate(capacity: 256)
        epollBuffer = .allocate(capacity: 256)
        reapBuffer.initialize(repeating: AIOCompletion())
        epollBuffer.initialize(repeating: EpollEvent())
        epollPoll = .allocate(capacity: 1)
        epollPoll.initialize(to: .poll(descriptor: epoll.descriptor.rawValue, events: Int32(POLLIN), userData: Tag.epoll))
        wakeupPoll = .allocate(capacity: 1)
        wakeupPoll.initialize(to: .poll(descriptor: mailbox.wakeup.descriptor.rawValue, events: Int32(POLLIN), userData: Tag.wakeup))
        if let reason = reaper.unusableReason {
            logger.warning("AIO ring not readable in user space; every reap is a system call", metadata: ["reason": "\(reason)"])
        }
        serialFace = SerialFace(reactor: self)
        armWakeupPoll()
        armEpollPoll()
    }

    deinit {
        submitBatch.deallocate()
        reapBuffer.deallocate()
        epollBuffer.deallocate()
        // The loop's shutdown left nothing in flight, so the kernel holds no pointer here.
        epollPoll.deallocate()
        wakeupPoll.deallocate()
        io.deallocateAll()
    }

    /// Whether the calling thread is this reactor's thread. Safe from any thread.
    public var isOnReactorThread: Bool {
        pthread_equal(pthread_self(), thread) != 0
    }

    /// A snapshot of the counters. Read it on the reactor thread (or after ``run(configuration:_:)`` returned).
    public var stats: ReactorStats {
        var snapshot = counters
        snapshot.ioGeteventsCalls = reaper.counters.systemCalls
        snapshot.userSpaceCompletions = reaper.counters.userSpaceCompletions
        snapshot.eventfdWrites = mailbox.wakeupWrites.load(ordering: .relaxed)
        snapshot.remoteEnqueues = mailbox.posted.load(ordering: .relaxed)
        snapshot.enqueues += mailbox.postedJobs.load(ordering: .relaxed)
        snapshot.arrivedAfterStop = lateWork.load(ordering: .relaxed)
        return snapshot
    }

    /// Monotonic time in nanoseconds (`CLOCK_MONOTONIC`, no system call).
    @inline(__always)
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    var currentPhase: Phase { Phase(rawValue: phase.load(ordering: .acquiring))! }
}
