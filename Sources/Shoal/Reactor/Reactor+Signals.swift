import CShoal
import ShoalKernel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension Reactor {
    /// Suspends until the process receives one of `signals` and returns it: the way to
    /// shut a server down gracefully on `SIGINT` or `SIGTERM`.
    ///
    /// A one-shot ``watchSignals(_:)``: the handlers are installed when this task first
    /// runs, so a signal before then is not seen. A server should watch before it takes
    /// its resources (see ``watchSignals(_:)``).
    ///
    /// ```swift
    /// let signal = try await reactor.waitForSignal([SIGINT, SIGTERM])
    /// ```
    ///
    /// - Throws: what ``watchSignals(_:)`` and ``SignalWatch/next()`` throw.
    public func waitForSignal(_ signals: Set<Int32>) async throws -> Int32 {
        if currentPhase == .stopped { throw ReactorError.stopped("no signal wait") }
        try SignalWatchers.check(signals)
        guard isOnReactorThread else { return try await hop { try await $0.waitForSignal(signals) } }
        try Task.checkCancellation()
        let watch = try watchSignals(signals)
        defer { watch.close() }
        return try await watch.next()
    }

    /// Starts counting `signals` now and returns the watch to wait on: call it first
    /// thing, before the server opens listeners and connections, so that neither a
    /// signal nor a shortage of descriptors later can be missed.
    ///
    /// While a watch is open, Shoal's handler replaces each signal's action; when the
    /// last watch of a signal closes, the previous action comes back (so a second Ctrl-C
    /// during a graceful shutdown ends the process the usual way). The handler only
    /// counts the signal and writes an eventfd that the reactor watches: no thread is
    /// dedicated to signals, and a sleeping reactor wakes at once. Reactor thread only.
    ///
    /// ```swift
    /// let signals = try reactor.watchSignals([SIGINT, SIGTERM])
    /// let listener = try await TCPListener.bind(address, on: reactor)
    /// // ... serve in another task, then:
    /// _ = try await signals.next()
    /// listener.close()
    /// ```
    ///
    /// - Throws: ``ReactorError/invalidArgument(_:)`` for an empty set, `SIGKILL`,
    ///   `SIGSTOP`, a fault signal (`SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`) or a number
    ///   out of `1...64`; `SystemCallError` (`sigaction`, or `fcntl` and `epoll_ctl`
    ///   for its descriptor: `EMFILE`); ``ReactorError/stopped(_:)``;
    ///   ``ReactorError/invalidArgument(_:)`` off the reactor thread.
    public func watchSignals(_ signals: Set<Int32>) throws -> SignalWatch {
        if currentPhase == .stopped { throw ReactorError.stopped("no signal watch") }
        try SignalWatchers.check(signals)
        guard isOnReactorThread else {
            throw ReactorError.invalidArgument(
                "watchSignals off the reactor thread: call it from the reactor's tasks (inside Reactor.run)")
        }
        try SignalWatchers.watch(signals)
        do {
            // A descriptor of our own for the shared eventfd: each watch registers its own.
            let duplicate = try FileCalls.duplicate(FileDescriptor(rawValue: shoal_signal_eventfd()))
            let registration = try register(duplicate.descriptor)
            _ = duplicate.release()  // the registration owns it now: closeRegistered closes it
            return SignalWatch(reactor: self, signals: signals, registration: registration)
        } catch {
            SignalWatchers.unwatch(signals)
            throw error
        }
    }
}

/// Signals counted since ``Reactor/watchSignals(_:)``: ``next()`` returns each one
/// that arrives (several deliveries of one signal before a `next()` count once).
/// Close it (or let it go) to restore the signals' previous actions.
public final class SignalWatch: @unchecked Sendable {
    /// The reactor it waits on.
    public let reactor: Reactor
    /// The signals it counts.
    public let signals: Set<Int32>
    // Reactor thread only, from here on.
    private var seen: [Int32: UInt64]
    private let registration: IORegistration
    private var closed = false

    init(reactor: Reactor, signals: Set<Int32>, registration: IORegistration) {
        self.reactor = reactor
        self.signals = signals
        self.registration = registration
        seen = Dictionary(uniqueKeysWithValues: signals.map { ($0, shoal_signal_count($0)) })
    }

    deinit {
        if !closed {
            reactor.closeRegistered(registration)
            SignalWatchers.unwatch(signals)
        }
    }

    /// Suspends until one of the signals arrives that no earlier `next()` returned, and
    /// returns it (returns at once for one that arrived meanwhile).
    ///
    /// - Throws: ``ReactorError/closed(_:)`` after ``close()``; `CancellationError`;
    ///   ``ReactorError/stopped(_:)``, also when called after the reactor stopped;
    ///   ``ReactorError/alreadyWaiting(descriptor:interest:)`` while another task waits
    ///   in `next()` on this watch.
    public func next() async throws -> Int32 {
        guard reactor.isOnReactorThread else {
            if reactor.currentPhase == .stopped { throw ReactorError.stopped("signal watch") }
            return try await reactor.hop { _ in try await self.next() }
        }
        while true {
            if closed { throw ReactorError.closed("signal watch") }
            for signal in signals.sorted() {
                let count = shoal_signal_count(signal)
                if count != seen[signal] {
                    seen[signal] = count
                    return signal
                }
            }
            do {
                try await reactor.wait(for: .readable, on: registration, deadline: nil)
            } catch ReactorError.deregistered {
                throw ReactorError.closed("signal watch")
            }
        }
    }

    /// Stops watching: a waiting ``next()`` throws ``ReactorError/closed(_:)``, and the
    /// signals' previous actions come back when no other watch counts them. Closing
    /// again does nothing.
    public func close() {
        // Off the reactor thread: on it, or here once the reactor has stopped.
        if !reactor.isOnReactorThread && reactor.currentPhase != .stopped && reactor.execute({ self.close() }) { return }
        if closed { return }
        closed = true
        reactor.closeRegistered(registration)
        SignalWatchers.unwatch(signals)
    }
}

/// How many waits watch each signal; the first installs Shoal's handler, the last
/// restores the previous action.
enum SignalWatchers {
    private static let watchers = Mutex<[Int32: Int]>([:])

    static func check(_ signals: Set<Int32>) throws {
        if signals.isEmpty { throw ReactorError.invalidArgument("waitForSignal with no signal") }
        for signal in signals {
            guard (1...64).contains(signal) else {
                throw ReactorError.invalidArgument("signal \(signal): signal numbers are 1...64")
            }
            if [SIGKILL, SIGSTOP].contains(signal) {
                throw ReactorError.invalidArgument("signal \(signal): SIGKILL and SIGSTOP cannot be caught")
            }
            if [SIGSEGV, SIGBUS, SIGFPE, SIGILL].contains(signal) {
                throw ReactorError.invalidArgument("signal \(signal): a fault signal cannot be waited for")
            }
        }
    }

    static func watch(_ signals: Set<Int32>) throws {
        try watchers.withLock { counts in
            for signal in signals {
                if counts[signal, default: 0] == 0 && shoal_signal_watch(signal) != 0 {
                    throw SystemCallError(call: "sigaction", errno: .current, detail: "signal \(signal)")
                }
                counts[signal, default: 0] += 1
            }
        }
    }

    static func unwatch(_ signals: Set<Int32>) {
        watchers.withLock { counts in
            for signal in signals {
                guard let count = counts[signal] else { continue }
                if count == 1 {
                    counts[signal] = nil
                    _ = shoal_signal_unwatch(signal)
                } else {
                    counts[signal] = count - 1
                }
            }
        }
    }
}
