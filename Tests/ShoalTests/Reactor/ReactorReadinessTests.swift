import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Reactor readiness: epoll, edge-triggered, with generations")
struct ReactorReadinessTests {
    @Test("an edge that arrived before the wait is not lost")
    func latchedEdge() async throws {
        let result = try await runReactor { reactor -> [UInt8] in
            let ends = TestPipe()
            defer { ends.close() }
            let registration = try reactor.register(ends.read)
            ends.poke(7)
            try await reactor.sleep(for: .milliseconds(2))  // the edge is collected meanwhile
            try await reactor.wait(for: .readable, on: registration)
            let got = ends.take()
            reactor.deregister(registration)
            return got.map { [$0] } ?? []
        }
        #expect(result == [7])
    }

    @Test("a socket pair: writable at once, readable after the peer writes")
    func socketPair() async throws {
        let ok = try await runReactor { reactor -> Bool in
            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { return false }
            defer {
                close(pair[0])
                close(pair[1])
            }
            for fd in pair { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            let left = try reactor.register(FileDescriptor(rawValue: pair[0]))
            let right = try reactor.register(FileDescriptor(rawValue: pair[1]))
            try await reactor.wait(for: .writable, on: left)
            async let readable: Void = reactor.wait(for: .readable, on: right)
            var byte: UInt8 = 1
            _ = write(pair[0], &byte, 1)
            try await readable
            reactor.deregister(left)
            reactor.deregister(right)
            return reactor.isOnReactorThread
        }
        #expect(ok)
    }

    @Test("deregistering wakes the waiter with an error naming the descriptor; a stale registration is refused")
    func deregisterWakesWaiter() async throws {
        let (fd, message, stale) = try await runReactor { reactor -> (Int32, String, String) in
            let ends = TestPipe()
            defer { ends.close() }
            let registration = try reactor.register(ends.read)
            let waiter = reactor.spawn { try await reactor.wait(for: .readable, on: registration) }
            try await reactor.sleep(for: .milliseconds(2))
            reactor.deregister(registration)
            var message = "no error"
            if case .failure(let error) = await waiter.result { message = "\(error)" }
            var stale = "no error"
            do { try await reactor.wait(for: .readable, on: registration) } catch { stale = "\(error)" }
            return (ends.read.rawValue, message, stale)
        }
        #expect(message.contains("descriptor \(fd) was deregistered"))
        #expect(stale.contains("descriptor \(fd) was deregistered"))
    }

    @Test("a reused descriptor number does not receive the old registration's events")
    func generationGuardsReuse() async throws {
        let woke = try await runReactor { reactor -> Bool in
            let first = TestPipe()
            let old = try reactor.register(first.read)
            reactor.deregister(old)
            first.close()
            let second = TestPipe()  // likely the same numbers again
            defer { second.close() }
            let fresh = try reactor.register(second.read)
            second.poke()
            try await reactor.wait(for: .readable, on: fresh)
            var oldRefused = false
            do { try await reactor.wait(for: .readable, on: old) } catch { oldRefused = true }
            reactor.deregister(fresh)
            return oldRefused && fresh != old
        }
        #expect(woke)
    }

    @Test("a second reader on one registration gets a clear error; the first keeps waiting")
    func secondReaderRefused() async throws {
        let (message, firstWoke) = try await runReactor { reactor -> (String, Bool) in
            let ends = TestPipe()
            defer { ends.close() }
            let registration = try reactor.register(ends.read)
            let first = reactor.spawn { try await reactor.wait(for: .readable, on: registration) }
            try await reactor.sleep(for: .milliseconds(2))
            var message = "no error"
            do { try await reactor.wait(for: .readable, on: registration) } catch { message = "\(error)" }
            ends.poke()
            let firstWoke = (try? await first.value) != nil
            reactor.deregister(registration)
            return (message, firstWoke)
        }
        #expect(message.contains("another task already waits for descriptor"))
        #expect(message.contains("readable"))
        #expect(firstWoke)
    }

    @Test("a cancelled readiness wait resumes with CancellationError")
    func cancelWait() async throws {
        let error = try await runReactor { reactor -> String in
            let ends = TestPipe()
            defer { ends.close() }
            let registration = try reactor.register(ends.read)
            let waiter = reactor.spawn { try await reactor.wait(for: .readable, on: registration) }
            try await reactor.sleep(for: .milliseconds(2))
            waiter.cancel()
            let outcome = await waiter.result
            reactor.deregister(registration)
            guard case .failure(let error) = outcome else { return "no error" }
            return "\(type(of: error))"
        }
        #expect(error == "CancellationError")
    }

    @Test("registering a regular file names epoll_ctl")
    func registerRegularFile() async throws {
        let message = try await runReactor { reactor -> String in
            let path = try scratchPath("epoll-file")
            defer { unlink(path) }
            let owned = try FileCalls.open(FilePath(path), options: [.readWrite, .create])
            defer { _ = owned }
            do { _ = try reactor.register(owned.descriptor) } catch { return "\(error)" }
            return "no error"
        }
        #expect(message.contains("epoll_ctl"))
        #expect(message.contains("Operation not permitted (errno 1)"))
        #expect(message.contains("a regular file is always ready and cannot be watched"))
    }

    @Test("a cancellation reaches only the wait it was meant for, never a later wait on the registration")
    func cancellationHitsItsOwnWait() async throws {
        // Task A waits; its edge and its cancellation arrive in the same turn of the loop:
        // the edge resumes A, A's cancellation handler is queued, and task B starts to
        // wait on the same registration before that handler runs.
        let wronglyCancelled = try await runReactor { reactor -> Int in
            var wrongly = 0
            for _ in 0..<20 {
                let ends = TestPipe()
                defer { ends.close() }
                let registration = try reactor.register(ends.read)
                let a = reactor.spawn { try await reactor.wait(for: .readable, on: registration) }
                try await reactor.sleep(for: .milliseconds(1))
                let bOutcome = Shared("pending")
                ends.poke()
                // Timers fire after the reap of the same tick: A is resumed by then.
                reactor.schedule(at: .now) {
                    reactor.spawn {
                        do {
                            try await reactor.wait(for: .readable, on: registration)
                            bOutcome.value = "woke"
                        } catch {
                            bOutcome.value = "\(type(of: error))"
                        }
                    }
                    a.cancel()
                }
                try await reactor.sleep(for: .milliseconds(2))
                ends.poke()
                try await reactor.sleep(for: .milliseconds(2))
                if bOutcome.value == "CancellationError" { wrongly += 1 }
                _ = await a.result
                reactor.deregister(registration)
            }
            return wrongly
        }
        #expect(wronglyCancelled == 0)
    }
}
