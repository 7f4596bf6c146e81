import CShoal
import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

/// Who reaps the completions in the `reap` benchmark.
enum Reaper: String, CaseIterable {
    /// Shoal's ``CompletionReaper``: copies from the ring in user space.
    case userspace
    /// libaio's `io_getevents`: user space only when the ring is empty.
    case libaio
    /// The raw `io_getevents` system call.
    case syscall
}

/// What is waiting in the ring when a reap is timed.
enum ReapCase: CaseIterable, Hashable {
    case empty, ready1, ready8, ready32

    /// Completions each reap asks for (and finds).
    var batch: Int {
        switch self {
        case .empty: 32
        case .ready1: 1
        case .ready8: 8
        case .ready32: 32
        }
    }

    var name: String {
        switch self {
        case .empty: "empty"
        case .ready1: "ready1"
        case .ready8: "ready8"
        case .ready32: "ready32"
        }
    }
}

/// The measuring loops of `shoal-bench reap`.
///
/// Each "ready" measurement first fills the ring with completed poll requests (on an
/// eventfd that is always readable, so each completes inside `io_submit`), untimed,
/// and then times back-to-back reaps of `batch` completions each until the ring is
/// empty. An "empty" measurement times reaps of an empty ring. Every reap asks for
/// `minimum: 0` with a zero timeout, the call a reactor makes on each turn.
///
/// Shoal's reaper and its peers reap different contexts: a ring has one consumer (the
/// reaper notices a `head` moved by anyone else and stops reading the ring).
struct ReapBench: ~Copyable {
    /// Requests guaranteed in flight at once: one fill.
    static let capacity = 4_096

    private var reaper: CompletionReaper
    /// The context libaio and the raw system call reap (held by a reaper that never
    /// reaps: its ring is counted straight from the header, whose head the kernel moves).
    private let peer: CompletionReaper
    private let readable: EventFD
    private let requests: UnsafeMutableBufferPointer<AIORequest>
    private let pointers: UnsafeMutableBufferPointer<UnsafeMutablePointer<AIORequest>?>
    private let events: UnsafeMutableBufferPointer<AIOCompletion>
    private let fills: Int
    private let emptyIterations: Int

    init(fills: Int, emptyIterations: Int) throws {
        let reaper = CompletionReaper(context: try AIOContext(maximumEvents: Self.capacity))
        if let reason = reaper.unusableReason {
            throw BenchError("the AIO ring cannot be read in user space: \(reason)")
        }
        let peer = CompletionReaper(context: try AIOContext(maximumEvents: Self.capacity))
        let readable = try EventFD(initialValue: 1)
        let requests = UnsafeMutableBufferPointer<AIORequest>.allocate(capacity: Self.capacity)
        let pointers = UnsafeMutableBufferPointer<UnsafeMutablePointer<AIORequest>?>.allocate(capacity: Self.capacity)
        for index in 0..<Self.capacity {
            requests[index] = .poll(descriptor: readable.descriptor.descriptor, events: Int32(POLLIN), userData: UInt64(index))
            pointers[index] = requests.baseAddress! + index
        }
        self.reaper = reaper
        self.peer = peer
        self.readable = readable
        self.requests = requests
        self.pointers = pointers
        self.events = .allocate(capacity: 64)
        self.fills = fills
        self.emptyIterations = emptyIterations
    }

    deinit {
        requests.deallocate()
        pointers.deallocate()
        events.deallocate()
    }

    /// `io_getevents` calls the user-space reaper made (zero while events were ready).
    var reaperCounters: CompletionReaper.Counters { reaper.counters }

    /// Nanoseconds per reap for `method` in `benchCase`.
    mutating func measure(_ method: Reaper, _ benchCase: ReapCase) throws -> Double {
        let batch = benchCase.batch
        if benchCase == .empty {
            let elapsed = try timedReaps(method, batch: batch, reaps: emptyIterations, expecting: 0)
            return Double(elapsed) / Double(emptyIterations)
        }
        let perFill = Self.capacity / batch * batch
        var elapsed: UInt64 = 0
        for _ in 0..<fills {
            if method == .userspace { try Self.fill(perFill, reaper, pointers) } else { try Self.fill(perFill, peer, pointers) }
            elapsed += try timedReaps(method, batch: batch, reaps: perFill / batch, expecting: batch)
        }
        return Double(elapsed) / Double(fills * perFill / batch)
    }

    /// Submits `count` poll requests to `reaper`'s context and waits until all of them
    /// sit in its ring.
    private static func fill(
        _ count: Int, _ reaper: borrowing CompletionReaper,
        _ pointers: UnsafeMutableBufferPointer<UnsafeMutablePointer<AIORequest>?>
    ) throws {
        var submitted = 0
        while submitted < count {
            let taken = try reaper.context.submit(UnsafeMutableBufferPointer(rebasing: pointers[submitted..<count]))
            guard taken > 0 else { throw BenchError("io_submit took nothing with \(submitted) in flight") }
            submitted += taken
        }
        var spins = 0
        while Self.ready(in: reaper) != count {
            spins += 1
            if spins > 100_000_000 { throw BenchError("poll completions did not arrive in the ring") }
        }
    }

    /// Completions in `reaper`'s ring by the ring's own head and tail: the peers' rings
    /// are consumed by io_getevents, which moves the head the kernel keeps there.
    private static func ready(in reaper: borrowing CompletionReaper) -> Int {
        let words = UnsafeMutablePointer<UInt32>(bitPattern: reaper.context.id)!
        let slots = Int(shoal_load_relaxed_u32(words + 1))
        let head = Int(shoal_load_relaxed_u32(words + 2))
        let tail = Int(shoal_load_acquire_u32(words + 3))
        return (tail - head + slots) % slots
    }

    /// Times `reaps` back-to-back reaps of up to `batch` completions; each must return `expecting`.
    private mutating func timedReaps(_ method: Reaper, batch: Int, reaps: Int, expecting: Int) throws -> UInt64 {
        let buffer = UnsafeMutableBufferPointer(rebasing: events[..<batch])
        let context = peer.context.id
        var zero = timespec()
        var mismatches = 0
        let start: UInt64
        let end: UInt64
        // One loop per method, so the timed loop holds nothing but the reap itself.
        switch method {
        case .userspace:
            start = monotonicNanoseconds()
            for _ in 0..<reaps {
                let got = try reaper.reap(into: buffer, minimum: 0, timeout: .zero)
                if got != expecting { mismatches += 1 }
            }
            end = monotonicNanoseconds()
        case .libaio:
            start = monotonicNanoseconds()
            for _ in 0..<reaps {
                let got = shoal_libaio_io_getevents(context, 0, batch, buffer.baseAddress, &zero)
                if got != expecting { mismatches += 1 }
            }
            end = monotonicNanoseconds()
        case .syscall:
            start = monotonicNanoseconds()
            for _ in 0..<reaps {
                let got = shoal_sys_io_getevents(context, 0, batch, buffer.baseAddress, &zero)
                if got != expecting { mismatches += 1 }
            }
            end = monotonicNanoseconds()
        }
        guard mismatches == 0 else {
            throw BenchError("\(method.rawValue): \(mismatches) of \(reaps) reaps did not return \(expecting) events")
        }
        return end - start
    }
}

/// A benchmark that could not measure what it set out to.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
