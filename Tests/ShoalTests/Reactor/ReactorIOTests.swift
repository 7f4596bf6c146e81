import Shoal
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Owns an aligned buffer; handed to `perform(_:keepingAlive:)` as the request's owner.
final class AlignedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let count: Int
    init(count: Int, alignment: Int = 4_096) {
        pointer = .allocate(byteCount: count, alignment: alignment)
        self.count = count
    }
    deinit { pointer.deallocate() }
}

@Suite("Reactor AIO: perform, batching, errors, cancellation")
struct ReactorIOTests {
    @Test("reads through the reactor return the file's bytes; one io_submit carries a tick's requests")
    func readsMatchContent() async throws {
        let path = try scratchPath("reactor-reads")
        defer { unlink(path) }
        let block = 4_096
        let blocks = 32
        try writePatternFile(path, size: block * blocks)
        let (matches, stats) = try await runReactor { reactor -> ([Bool], ReactorStats) in
            let fd = try (try? FileCalls.open(path, options: [.readOnly, .direct])) ?? FileCalls.open(path, options: .readOnly)
            let raw = fd.rawValue
            try await reactor.sleep(for: .milliseconds(1))
            let before = reactor.stats
            let matches = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<blocks {
                    group.addTask {
                        let buffer = AlignedBuffer(count: block)
                        let request = AIORequest.read(
                            descriptor: raw, into: buffer.pointer, count: block, offset: Int64(index * block), userData: 0)
                        let result = try await reactor.perform(request, keepingAlive: buffer)
                        let bytes = UnsafeRawBufferPointer(start: buffer.pointer, count: block)
                        return result == Int64(block)
                            && bytes.elementsEqual((0..<block).map { patternByte(at: index * block + $0) })
                            && reactor.isOnReactorThread
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            _ = fd
            return (matches, reactor.stats.since(before))
        }
        #expect(matches.count == blocks)
        #expect(matches.allSatisfy { $0 })
        // The 32 tasks queue their reads in one tick: they go to the kernel together.
        #expect(stats.ioSubmitCalls <= 3, "\(stats.ioSubmitCalls) io_submit calls for \(blocks) reads")
    }

    @Test("a request the kernel rejects throws the io_submit error; the reactor keeps going")
    func rejectedRequest() async throws {
        let (error, after) = try await runReactor { reactor -> (SystemCallError?, Int64) in
            var byte: UInt8 = 0
            var caught: SystemCallError?
            do {
                _ = try await reactor.perform(.read(descriptor: 9_999, into: &byte, count: 1, offset: 0, userData: 0))
            } catch let error as SystemCallError {
                caught = error
            }
            let event = try EventFD(initialValue: 1)
            let mask = try await reactor.perform(.poll(descriptor: event.descriptor.rawValue, events: Int32(POLLIN), userData: 0))
            return (caught, mask)
        }
        #expect(error?.call == "io_submit")
        #expect(error?.errno == EBADF)
        #expect(after & Int64(POLLIN) != 0)
    }

    @Test("a cancelled AIO poll resumes with CancellationError and is cancelled in the kernel")
    func cancelPoll() async throws {
        let (error, stats) = try await runReactor { reactor -> (String, ReactorStats) in
            let quiet = try EventFD()
            let fd = quiet.descriptor.rawValue
            let before = reactor.stats
            let waiter = reactor.spawn {
                try await reactor.perform(.poll(descriptor: fd, events: Int32(POLLIN), userData: 0))
            }
            try await reactor.sleep(for: .milliseconds(5))
            waiter.cancel()
            let outcome = await waiter.result
            try await reactor.sleep(for: .milliseconds(5))
            _ = quiet
            guard case .failure(let error) = outcome else { return ("no error", reactor.stats.since(before)) }
            return ("\(type(of: error))", reactor.stats.since(before))
        }
        #expect(error == "CancellationError")
        #expect(stats.ioCancelCalls == 1)
    }

    @Test("a request cancelled before it was submitted never reaches the kernel")
    func cancelQueued() async throws {
        let (error, submits) = try await runReactor { reactor -> (String, Int) in
            let event = try EventFD(initialValue: 1)
            let fd = event.descriptor.rawValue
            try await reactor.sleep(for: .milliseconds(1))
            let before = reactor.stats
            let task = reactor.spawn { () async throws -> Int64 in
                withUnsafeCurrentTask { $0?.cancel() }
                return try await reactor.perform(.poll(descriptor: fd, events: Int32(POLLIN), userData: 0))
            }
            let outcome = await task.result
            _ = event
            guard case .failure(let error) = outcome else { return ("no error", 0) }
            return ("\(type(of: error))", reactor.stats.since(before).ioSubmitCalls)
        }
        #expect(error == "CancellationError")
        #expect(submits == 0)
    }

    @Test("perform called from a task off the reactor hops to it and back")
    func performFromElsewhere() async throws {
        let (mask, onReactor) = try await runReactor { reactor -> (Int64, Bool) in
            let event = try EventFD(initialValue: 1)
            let fd = event.descriptor.rawValue
            // A detached task without the reactor as preference runs on the global pool.
            let result = try await Task.detached {
                try await reactor.perform(.poll(descriptor: fd, events: Int32(POLLIN), userData: 0))
            }.value
            _ = event
            return (result, reactor.isOnReactorThread)
        }
        #expect(mask & Int64(POLLIN) != 0)
        #expect(onReactor)
    }
}

@Suite("Reactor readiness: epoll, edge-triggered, with generations")
struct ReactorReadinessTests {
    @Test("an edge that arrived before the wait is not lost")
    func latchedEdge() async throws {
        let result = try await runReactor { reactor -> [UInt8] in
            let ends = nonBlockingPipe()
            defer { close(ends.read); close(ends.write) }
            let registration = try reactor.register(ends.read)
            var byte: UInt8 = 7
            _ = write(ends.write, &byte, 1)
            try await reactor.sleep(for: .milliseconds(2))  // the edge is collected meanwhile
            try await reactor.wait(for: .readable, on: registration)
            var got: UInt8 = 0
            let count = read(ends.read, &got, 1)
            reactor.deregister(registration)
            return count == 1 ? [got] : []
        }
        #expect(result == [7])
    }

    @Test("a socket pair: writable at once, readable after the peer writes")
    func socketPair() async throws {
        let ok = try await runReactor { reactor -> Bool in
            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { return false }
            defer { close(pair[0]); close(pair[1]) }
            for fd in pair { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            let left = try reactor.register(pair[0])
            let right = try reactor.register(pair[1])
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
            let ends = nonBlockingPipe()
            defer { close(ends.read); close(ends.write) }
            let registration = try reactor.register(ends.read)
            let waiter = reactor.spawn { try await reactor.wait(for: .readable, on: registration) }
            try await reactor.sleep(for: .milliseconds(2))
            reactor.deregister(registration)
            var message = "no error"
            if case .failure(let error) = await waiter.result { message = "\(error)" }
            var stale = "no error"
            do { try await reactor.wait(for: .readable, on: registration) } catch { stale = "\(error)" }
            return (ends.read, message, stale)
        }
        #expect(message.contains("descriptor \(fd) was deregistered"))
        #expect(stale.contains("descriptor \(fd) was deregistered"))
    }

    @Test("a reused descriptor number does not receive the old registration's events")
    func generationGuardsReuse() async throws {
        let woke = try await runReactor { reactor -> Bool in
            let first = nonBlockingPipe()
            let old = try reactor.register(first.read)
            reactor.deregister(old)
            close(first.read)
            close(first.write)
            let second = nonBlockingPipe()  // likely the same numbers again
            defer { close(second.read); close(second.write) }
            let fresh = try reactor.register(second.read)
            var byte: UInt8 = 1
            _ = write(second.write, &byte, 1)
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
            let ends = nonBlockingPipe()
            defer { close(ends.read); close(ends.write) }
            let registration = try reactor.register(ends.read)
            let first = reactor.spawn { try await reactor.wait(for: .readable, on: registration) }
            try await reactor.sleep(for: .milliseconds(2))
            var message = "no error"
            do { try await reactor.wait(for: .readable, on: registration) } catch { message = "\(error)" }
            var byte: UInt8 = 1
            _ = write(ends.write, &byte, 1)
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
            let ends = nonBlockingPipe()
            defer { close(ends.read); close(ends.write) }
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
            let fd = try FileCalls.open(path, options: [.readWrite, .create])
            do { _ = try reactor.register(fd.rawValue) } catch { return "\(error)" }
            return "no error"
        }
        #expect(message.contains("epoll_ctl"))
        #expect(message.contains("EPERM"))
    }
}
