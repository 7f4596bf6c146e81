import CShoal
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A Linux AIO context (`io_setup`), destroyed exactly once (`io_destroy`).
///
/// The context's id is the address of its completion ring, which the kernel maps
/// into this process; ``CompletionReaper`` reads that ring in user space. This type
/// offers the plain system calls, with no policy: `submit`, ``cancel(_:)`` and
/// ``getEvents(minimum:into:timeout:)`` each make one system call, more only when a
/// signal interrupts them.
public struct AIOContext: ~Copyable {
    /// The kernel's context id (`aio_context_t`): the address of the completion ring.
    public let id: UInt
    /// The number of events asked of `io_setup`: this many requests can be in flight
    /// at once. The kernel's ring may hold more.
    public let requestedEvents: Int

    /// Creates a context able to hold at least `maximumEvents` requests in flight.
    ///
    /// Calls `io_setup(2)`. When the kernel refuses because the system-wide limit
    /// `fs.aio-max-nr` would be exceeded, the error says so, with the limit, the
    /// amount in use (`fs.aio-nr`) and how to raise it.
    public init(maximumEvents: Int) throws(SystemCallError) {
        guard maximumEvents > 0, maximumEvents <= Int(Int32.max) else {
            throw SystemCallError(
                call: "io_setup", errno: .invalidArgument,
                detail: "maximumEvents must be between 1 and \(Int32.max), got \(maximumEvents)")
        }
        var context: UInt = 0
        let result = shoal_sys_io_setup(UInt32(maximumEvents), &context)
        if result != 0 {
            let code = Errno.current
            throw SystemCallError(
                call: "io_setup", errno: code,
                detail: AIOLimits.explainSetupFailure(errno: code, requested: maximumEvents))
        }
        self.id = context
        self.requestedEvents = maximumEvents
    }

    deinit {
        // io_destroy waits for in-flight requests (it cancels what it can first).
        _ = shoal_sys_io_destroy(id)
    }

    /// Submits requests with one `io_submit(2)` call and returns how many the kernel took.
    ///
    /// The kernel takes requests in order and stops at the first one it cannot take.
    /// - Returns: the number accepted, from the front of `requests`. `0` means the
    ///   context has no free slot (`EAGAIN`): reap completions, then submit again.
    /// - Throws: ``SystemCallError`` when the first request is rejected for any other
    ///   reason (`EBADF`, `EINVAL`, ...); `requests[0]` is the culprit and was not queued.
    public func submit(
        _ requests: UnsafeMutableBufferPointer<UnsafeMutablePointer<AIORequest>?>
    ) throws(SystemCallError) -> Int {
        if requests.isEmpty { return 0 }
        let taken = try retryingInterruptsUnlessWouldBlock(
            "io_submit",
            detail: "first of \(requests.count) request(s): \(requests[0].map { $0.pointee.summary } ?? "nil")"
        ) {
            shoal_sys_io_submit(id, requests.count, requests.baseAddress)
        }
        return taken.map(Int.init) ?? 0
    }

    /// Submits one request; returns `false` when the context has no free slot (`EAGAIN`).
    public func submit(_ request: UnsafeMutablePointer<AIORequest>) throws(SystemCallError) -> Bool {
        var list: UnsafeMutablePointer<AIORequest>? = request
        return try withUnsafeMutablePointer(to: &list) { pointer throws(SystemCallError) in
            try submit(UnsafeMutableBufferPointer(start: pointer, count: 1)) == 1
        }
    }

    /// Asks the kernel to cancel a request in flight (`io_cancel(2)`).
    ///
    /// - Returns: `true` when cancellation started; the request's completion then
    ///   arrives through the ring (a cancelled poll completes with an empty mask, 0).
    ///   `false` when the request cannot be cancelled (Linux cancels only poll
    ///   requests) or is no longer in flight: its completion arrives as usual.
    public func cancel(_ request: UnsafeMutablePointer<AIORequest>) throws(SystemCallError) -> Bool {
        var ignored = AIOCompletion()
        while true {
            if shoal_sys_io_cancel(id, request, &ignored) == 0 { return true }
            switch Errno.current {
            case .interrupted: continue
            // Modern kernels deliver the cancelled completion to the ring and say EINPROGRESS.
            case .nowInProgress: return true
            case .invalidArgument, .resourceTemporarilyUnavailable: return false
            case let code: throw SystemCallError(call: "io_cancel", errno: code, detail: request.pointee.summary)
            }
        }
    }

    /// Waits in the kernel for completions (`io_getevents(2)`).
    ///
    /// Returns between `minimum` and `events.count` completions, or fewer when the
    /// timeout expires. A `nil` timeout waits without limit, and so does a timeout too
    /// far away to represent (`.seconds(Int64.max)`); `.zero` or a negative timeout
    /// does not wait. Signals do not shorten or stretch the wait: the kernel returns
    /// early when one arrives, and the call is repeated for the completions still
    /// missing, with the time left until the original deadline.
    /// This always enters the kernel; ``CompletionReaper`` avoids that when it can.
    public func getEvents(
        minimum: Int,
        into events: UnsafeMutableBufferPointer<AIOCompletion>,
        timeout: Duration?
    ) throws(SystemCallError) -> Int {
        precondition(minimum >= 0 && minimum <= events.count, "minimum must be in 0...events.count")
        let deadline = timeout.map { MonotonicTime.deadline(after: $0) } ?? nil
        let polls = timeout.map { $0 <= .zero } ?? false
        var collected = 0
        while true {
            let wanted = max(minimum - collected, 0)
            let slots = events.count - collected
            let base = events.baseAddress.map { $0 + collected }
            let result: Int32
            if polls {
                var zero = timespec()
                result = shoal_sys_io_getevents(id, wanted, slots, base, &zero)
            } else if let deadline {
                var left = MonotonicTime.remaining(until: deadline)
                result = shoal_sys_io_getevents(id, wanted, slots, base, &left)
            } else {
                result = shoal_sys_io_getevents(id, wanted, slots, base, nil)
            }
            if result >= 0 {
                collected += Int(result)
            } else if Errno.current != .interrupted {
                throw SystemCallError(call: "io_getevents", errno: .current)
            }
            // Enough, a poll, or the deadline passed: done. Otherwise a signal cut the
            // wait short (with or without events): wait for the rest.
            if collected >= minimum || polls || collected == events.count { return collected }
            if let deadline, MonotonicTime.now() >= deadline { return collected }
        }
    }
}
