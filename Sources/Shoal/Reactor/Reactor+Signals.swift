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
    /// While at least one task waits for a signal, Shoal's handler replaces the
    /// signal's action; when the last such wait ends, the previous action comes back (so
    /// a second Ctrl-C during a graceful shutdown ends the process the usual way). The
    /// handler only counts the signal and writes an eventfd that the reactor watches: no
    /// thread is dedicated to signals, and a sleeping reactor wakes at once. Only signals
    /// that arrive after the call count.
    ///
    /// ```swift
    /// let signal = try await reactor.waitForSignal([SIGINT, SIGTERM])
    /// ```
    ///
    /// - Throws: ``ReactorError/invalidArgument(_:)`` for an empty set, `SIGKILL`,
    ///   `SIGSTOP`, a fault signal (`SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`) or a number
    ///   out of `1...64`; `CancellationError`; ``ReactorError/stopped(_:)``.
    public func waitForSignal(_ signals: Set<Int32>) async throws -> Int32 {
        if currentPhase == .stopped { throw ReactorError.stopped("no signal wait") }
        try SignalWatchers.check(signals)
        guard isOnReactorThread else { return try await hop { try await $0.waitForSignal(signals) } }
        try Task.checkCancellation()
        try SignalWatchers.watch(signals)
        defer { SignalWatchers.unwatch(signals) }
        let baseline = Dictionary(uniqueKeysWithValues: signals.map { ($0, shoal_signal_count($0)) })
        // A descriptor of our own for the shared eventfd: each wait registers its own.
        let duplicate = try FileCalls.duplicate(FileDescriptor(rawValue: shoal_signal_eventfd())).release()
        defer { _ = Glibc.close(duplicate.rawValue) }
        let registration = try register(duplicate)
        defer { deregister(registration) }
        while true {
            for signal in signals.sorted() where shoal_signal_count(signal) != baseline[signal] { return signal }
            try await wait(for: .readable, on: registration, deadline: nil)
        }
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
