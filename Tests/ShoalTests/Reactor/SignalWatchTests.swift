import Shoal
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The action installed for `signal` now.
private func currentHandler(_ signal: Int32) -> UInt {
    var action = sigaction()
    sigaction(signal, nil, &action)
    return unsafeBitCast(action.__sigaction_handler.sa_handler, to: UInt.self)
}

@Suite("Signals: watches count deliveries and restore the previous action", .serialized)
struct SignalWatchTests {
    @Test("a signal sent before next() is not lost; next() returns it once; close restores the action")
    func countedFromTheWatch() async throws {
        let before = currentHandler(SIGUSR2)
        let outcome = try await runReactor { reactor -> (Int32, Bool, Bool) in
            let watch = try reactor.watchSignals([SIGUSR2, SIGWINCH])
            let replaced = currentHandler(SIGUSR2) != before
            kill(getpid(), SIGUSR2)
            let first = try await watch.next()
            // The same delivery is not returned twice: the next one waits for a new signal.
            reactor.schedule(after: .milliseconds(1)) { kill(getpid(), SIGWINCH) }
            let second = try await watch.next()
            watch.close()
            return (first == SIGUSR2 ? second : -1, replaced, currentHandler(SIGUSR2) == before)
        }
        #expect(outcome.0 == SIGWINCH)
        #expect(outcome.1, "the watch did not install its handler")
        #expect(outcome.2, "close did not restore the previous action")
    }

    @Test("closing a watch ends a waiting next() with ReactorError.closed; waitForSignal returns the signal")
    func closeEndsTheWait() async throws {
        let outcome = try await runReactor { reactor -> (String, Int32) in
            let watch = try reactor.watchSignals([SIGUSR2])
            reactor.schedule(after: .milliseconds(2)) { watch.close() }
            var message = ""
            do {
                _ = try await watch.next()
            } catch let error as ReactorError {
                message = "\(error)"
            }
            reactor.schedule(after: .milliseconds(2)) { kill(getpid(), SIGUSR2) }
            let signal = try await reactor.waitForSignal([SIGUSR2])
            return (message, signal)
        }
        #expect(outcome.0.contains("signal watch"))
        #expect(outcome.0.contains("closed"))
        #expect(outcome.1 == SIGUSR2)
    }

    @Test(
        "signals that cannot be waited for are refused by name",
        arguments: [
            ([], "no signal"), ([SIGKILL], "cannot be caught"), ([SIGSTOP], "cannot be caught"),
            ([SIGSEGV], "fault signal"), ([0], "1...64"), ([65], "1...64"),
        ] as [([Int32], String)])
    func refused(signals: [Int32], reason: String) async throws {
        let message = try await runReactor { reactor -> String in
            do {
                _ = try reactor.watchSignals(Set(signals))
                return "watched"
            } catch let error as ReactorError {
                return "\(error)"
            }
        }
        #expect(message.contains(reason), "\(message)")
    }

    @Test("after the reactor stopped, next() throws stopped and close() still restores the action")
    func afterStop() async throws {
        let before = currentHandler(SIGUSR2)
        final class Keeper: @unchecked Sendable { var watch: SignalWatch? }
        let keeper = Keeper()
        try await runReactor { reactor in keeper.watch = try reactor.watchSignals([SIGUSR2]) }
        var message = ""
        do { _ = try await keeper.watch!.next() } catch let error as ReactorError { message = "\(error)" }
        #expect(message.contains("has stopped"), "\(message)")
        keeper.watch!.close()
        #expect(currentHandler(SIGUSR2) == before, "close after stop did not restore the previous action")
    }

    @Test("watchSignals off the reactor thread is refused with a clear error")
    func offThread() async throws {
        final class Keeper: @unchecked Sendable { var reactor: Reactor? }
        let keeper = Keeper()
        let message = try await runReactor { reactor -> String in
            keeper.reactor = reactor
            return await withUnsafeContinuation { continuation in
                startDetachedThread {
                    do {
                        _ = try reactor.watchSignals([SIGUSR2])
                        continuation.resume(returning: "watched")
                    } catch {
                        continuation.resume(returning: "\(error)")
                    }
                }
            }
        }
        #expect(message.contains("off the reactor thread"), "\(message)")
    }
}
