import CShoal
import DequeModule
import Logging
import ShoalKernel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A single-threaded reactor: one thread runs compute tasks, drives Linux AIO and
/// epoll readiness, fires timers, and blocks only when there is nothing to do.
///
/// Start one with `try await` ``run(configuration:_:)`` from async code (the reactor
/// gets a thread of its own), or with ``runOnCurrentThread(configuration:_:)`` on a
/// thread you give it. Swift tasks run
/// on it by executor preference (the root task and everything it starts with `async
/// let`, task groups or ``spawn(_:)``), actors run on it through
/// ``unownedSerialExecutor``, and code after every `await` comes back to the reactor
/// thread. See `docs/architecture.md` for the tick.
///
/// All state is confined to the reactor thread; the members that other threads may
/// use say so (``execute(_:)``, ``isOnReactorThread``, the executor entry points, and
/// every `async` method, which hops to the reactor).
///
/// The loop's mutable state is `@exclusivity(unchecked)`: only the reactor thread
/// touches it, one access at a time by construction, so the runtime's dynamic
/// exclusivity checks on class properties would only cost time on every tick (about
/// 230 instructions per read in `shoal-bench ticket`, measured with callgrind).
public final class Reactor: @unchecked Sendable {
    /// The configuration the reactor was started with.
    public let configuration: Configuration
    let logger: Logger
    /// The thread that runs the loop.
    let thread: pthread_t
    /// The task quota in nanoseconds.
    let quotaNanoseconds: UInt64

    // MARK: Run queue (reactor thread) and mailbox (any thread)

    @exclusivity(unchecked) var runQueue = Deque<Work>()
    let mailbox: Mailbox
    /// When the current tick's task phase must end (monotonic ns).
    @exclusivity(unchecked) var taskDeadline: UInt64 = 0

    // MARK: I/O

    @exclusivity(unchecked) var reaper: CompletionReaper
    let epoll: Epoll
    @exclusivity(unchecked) var io = IOTable()
    @exclusivity(unchecked) var readiness = ReadinessTable()
    /// User requests waiting for `io_submit`, oldest first. The reactor's own polls are
    /// not in it: they go first in every submission, into slots reserved for them.
    @exclusivity(unchecked) var submissionQueue = Deque<UnsafeMutablePointer<AIORequest>>()
    /// User requests submitted and not yet reaped: at most
    /// ``Configuration/maximumIOInFlight``, so the two reserved slots stay free.
    @exclusivity(unchecked) var userRequestsInKernel = 0
    /// Scratch space for one `io_submit` batch.
    let submitBatch: UnsafeMutableBufferPointer<UnsafeMutablePointer<AIORequest>?>
    /// Scratch space for reaped completions.
    let reapBuffer: UnsafeMutableBufferPointer<AIOCompletion>
    /// Scratch space for `epoll_wait`.
    let epollBuffer: UnsafeMutableBufferPointer<EpollEvent>
    /// The reactor's own poll requests: on the epoll descriptor, and on the wake-up eventfd.
    @exclusivity(unchecked) var epollPoll: InternalPoll
    @exclusivity(unchecked) var wakeupPoll: InternalPoll
    /// Sockets were ready at the last `epoll_wait(0)`: the next tick calls it again
    /// instead of re-arming the epoll poll (see ``drainReadiness()``).
    @exclusivity(unchecked) var epollDraining = false
    /// The last tick left readiness to the blocking step's `epoll_wait` (see
    /// ``reapCompletions()``); cleared once an `epoll_wait` has run.
    @exclusivity(unchecked) var readinessLeftToSleep = false

    /// The blocking-call thread and its queue (see ``performBlocking(_:)``).
    @exclusivity(unchecked) var blocking = BlockingCalls()

    // MARK: Timers

    @exclusivity(unchecked) var timers = TimerQueue()

    // MARK: Lifecycle and counters

    /// The loop's phase, readable from any thread.
    let phase = Atomic<UInt8>(Phase.running.rawValue)
    @exclusivity(unchecked) var rootFinished = false
    /// When shutdown gives up on what is left (monotonic ns), set when it begins.
    @exclusivity(unchecked) var shutdownDeadline: UInt64 = 0
    /// Set by ``stop()``: the reactor's own polls are no longer re-armed.
    @exclusivity(unchecked) var stopping = false
    @exclusivity(unchecked) var counters = ReactorStats()
    @exclusivity(unchecked) var stalls = StallDetector()
    /// A tick busy longer than this (ns) is a stall; `.max` when detection is off.
    let stallThreshold: UInt64
    /// Jobs and closures that arrived after the loop stopped (any thread).
    let lateWork = Atomic<Int>(0)
    /// Set as the last step of ``stop()``: the thread that ran the loop is the reactor
    /// thread no more (it may go on with other work, or end and have its id reused).
    let threadReleased = Atomic<Bool>(false)
    /// Runs, one at a time, the jobs that arrive after the loop stopped.
    let afterStop: StoppedExecutor
    /// The serial-executor face: actors whose executor is this reactor enqueue here.
    /// Set once at the end of `init`, read from any thread afterwards.
    private(set) var serialFace: SerialFace!

    enum Phase: UInt8 {
        /// Running the root task and everything else.
        case running
        /// The root task returned: finishing what is left (see `docs/architecture.md`).
        case shuttingDown
        /// The loop has returned; late jobs run on ``afterStop``.
        case stopped
    }

    /// Creates a reactor owned by the calling thread.
    init(configuration: Configuration) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = configuration.logger
        self.thread = pthread_self()
        self.quotaNanoseconds = UInt64(max(configuration.taskQuota.nanosecondsClamped, 0))
        self.stallThreshold = StallDetector.threshold(configuration.stallThreshold)
        self.mailbox = try Mailbox()
        // Two slots more than the user may fill: the reactor's own polls always fit.
        self.reaper = CompletionReaper(
            context: try AIOContext(maximumEvents: configuration.maximumIOInFlight + InternalPoll.reservedSlots),
            forcesSystemCall: configuration.forcesSystemCallReap)
        self.epoll = try Epoll()
        try epoll.add(mailbox.epollWakeup.descriptor.descriptor, events: [.readable, .edgeTriggered], token: Self.epollWakeupToken)
        submitBatch = .allocate(capacity: 256)
        reapBuffer = .allocate(capacity: 256)
        epollBuffer = .allocate(capacity: 256)
        reapBuffer.initialize(repeating: AIOCompletion())
        epollBuffer.initialize(repeating: EpollEvent())
        epollPoll = InternalPoll(watching: epoll.descriptor.descriptor, tag: InternalPoll.Tag.epoll)
        wakeupPoll = InternalPoll(watching: mailbox.wakeup.descriptor.descriptor, tag: InternalPoll.Tag.wakeup)
        afterStop = StoppedExecutor()
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

    /// Whether the calling thread is this reactor's thread, while the reactor runs (once
    /// it has stopped, the answer is `false`: its thread is gone, and the system may hand
    /// the same thread id to another thread). Safe from any thread.
    public var isOnReactorThread: Bool {
        pthread_equal(pthread_self(), thread) != 0 && !threadReleased.load(ordering: .relaxed)
    }

    /// Whether the root task has returned: the reactor is finishing what is left, or has
    /// stopped. Long-running loops that outlive the root task should check it (sleeps
    /// still work during shutdown, so a loop that swallows their errors would otherwise
    /// hold the shutdown for its whole grace period). Safe from any thread.
    public var isShuttingDown: Bool {
        phase.load(ordering: .relaxed) != Phase.running.rawValue
    }

    /// A snapshot of the counters. Read it on the reactor thread (or after
    /// the reactor stopped).
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
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    var currentPhase: Phase { Phase(rawValue: phase.load(ordering: .acquiring))! }
}
