import ArgumentParser
import CShoal
import Shoal
import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

/// `shoal-bench combined-step`: the measurements behind the reactor's choice of idle step.
struct CombinedStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "combined-step",
        abstract: "Per-tick readiness check and system calls per wake-up: the two combined-step designs.",
        discussion: """
            Design A (Shoal): the epoll descriptor is watched by an IOCB_CMD_POLL in the AIO \
            context, so a busy tick learns of socket readiness by reading the AIO ring. Design B: \
            AIO completions signal an eventfd registered in epoll, so a busy tick must call \
            epoll_wait(0) to learn of socket readiness. Part 1 times both checks (64 idle \
            sockets registered) alternately. Part 2 counts the Shoal reactor's system calls per \
            wake-up from its own counters, for each wake-up source.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Checks per measurement.")
    var checks = 200_000

    @Option(help: "Wake-ups per source in part 2.")
    var wakes = 200

    func run() throws {
        let (ring, epoll) = try measureChecks()
        let ratio = Summary(zip(epoll, ring).map { $0 / $1 })
        let ringSummary = Summary(ring)
        let epollSummary = Summary(epoll)
        let perWake = try countWakeups(wakes)
        print(
            """
            shoal-bench combined-step: median [min-max] of \(common.rounds) rounds
            \(MachineInfo.current().line)

            1. readiness check in a busy tick, ns (64 idle sockets registered)
               A, read the AIO ring (epoll fd polled in the ring):  \(ringSummary.formatted(1))   0 system calls
               B, epoll_wait(0):                                    \(epollSummary.formatted(1))   1 system call
               B / A: \(ratio.formatted(1))x

            2. Shoal reactor (design A), system calls per wake-up from the blocking step
            \(perWake.map { "   \(pad($0.name, 28)) \(format($0.calls, 2))  (\($0.detail))" }.joined(separator: "\n"))
            """)
        if common.json {
            var members: [(String, JSONValue)] = [
                ("benchmark", .string("combined-step")),
                ("ring_check_ns", .number(ringSummary.median)),
                ("epoll_wait0_ns", .number(epollSummary.median)),
                ("epoll_over_ring", .number(ratio.median)),
            ]
            for wake in perWake { members.append(("syscalls_per_wake_\(wake.key)", .number(wake.calls))) }
            print(JSONValue.object(members).text)
        }
    }

    /// Part 1: ns per readiness check, ring read against epoll_wait(0), alternating.
    private func measureChecks() throws -> ([Double], [Double]) {
        var reaper = CompletionReaper(context: try AIOContext(maximumEvents: 8))
        let epoll = try Epoll()
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        for index in 0..<32 {
            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
                throw BenchError("socketpair failed")
            }
            sockets += pair
            for fd in pair { try epoll.add(FileDescriptor(rawValue: fd), events: [.readable, .edgeTriggered], token: UInt64(index)) }
        }
        // Design A's arrangement: the epoll descriptor polled in the AIO ring.
        var poll = AIORequest.poll(descriptor: epoll.descriptor.descriptor, events: Int32(POLLIN), userData: 1)
        guard try reaper.context.submit(&poll) else { throw BenchError("io_submit of the epoll poll failed") }
        let completions = UnsafeMutableBufferPointer<AIOCompletion>.allocate(capacity: 16)
        let events = UnsafeMutableBufferPointer<EpollEvent>.allocate(capacity: 16)
        defer {
            completions.deallocate()
            events.deallocate()
        }
        var ring: [Double] = []
        var polled: [Double] = []
        for round in -1..<common.rounds {
            var pair = [0.0, 0.0]
            for step in 0..<2 {
                let which = (step + max(round, 0)) % 2
                let start = monotonicNanoseconds()
                var found = 0
                if which == 0 {
                    for _ in 0..<checks { found &+= try reaper.reap(into: completions) }
                } else {
                    for _ in 0..<checks { found &+= try epoll.wait(into: events, timeout: .zero) }
                }
                guard found == 0 else { throw BenchError("idle sockets reported readiness") }
                pair[which] = Double(monotonicNanoseconds() - start) / Double(checks)
            }
            if round >= 0 {
                ring.append(pair[0])
                polled.append(pair[1])
            }
        }
        _ = poll
        return (ring, polled)
    }

    /// Part 2: the reactor's system calls per wake-up, by source.
    private func countWakeups(_ count: Int) throws -> [(key: String, name: String, calls: Double, detail: String)] {
        try runReactor { reactor in
            var results: [(String, String, Double, String)] = []
            func record(_ key: String, _ name: String, _ delta: ReactorStats, sender: Int = 0) {
                let calls = Double(delta.systemCalls) / Double(count)
                let detail =
                    "io_getevents \(format(Double(delta.ioGeteventsCalls) / Double(count), 2)), "
                    + "io_submit \(format(Double(delta.ioSubmitCalls) / Double(count), 2)), "
                    + "epoll_wait \(format(Double(delta.epollWaitCalls) / Double(count), 2)), "
                    + "eventfd read \(format(Double(delta.eventfdReads) / Double(count), 2)), "
                    + "eventfd write \(format(Double(delta.eventfdWrites) / Double(count), 2))"
                results.append((key, name, calls, detail))
            }

            // A socket becomes readable while the reactor sleeps.
            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { throw BenchError("socketpair failed") }
            defer {
                close(pair[0])
                close(pair[1])
            }
            for fd in pair { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            let registration = try reactor.register(FileDescriptor(rawValue: pair[0]))
            try await reactor.sleep(for: .milliseconds(1))
            var before = reactor.stats
            for _ in 0..<count {
                let writer = pair[1]
                let poke = Poker(after: 200) {
                    var byte: UInt8 = 1
                    _ = write(writer, &byte, 1)
                }
                try await reactor.wait(for: .readable, on: registration)
                var byte: UInt8 = 0
                _ = read(pair[0], &byte, 1)
                poke.join()
            }
            record("socket", "socket readiness", reactor.stats.since(before))
            reactor.deregister(registration)

            // Another thread posts a closure while the reactor sleeps.
            before = reactor.stats
            for _ in 0..<count {
                var poke: Poker?
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    poke = Poker(after: 200) { reactor.execute { continuation.resume() } }
                }
                poke?.join()
            }
            record("remote", "closure from another thread", reactor.stats.since(before))

            // A timer expires while the reactor sleeps.
            before = reactor.stats
            for _ in 0..<count { try await reactor.sleep(for: .microseconds(200)) }
            record("timer", "timer", reactor.stats.since(before))
            return results.map { (key: $0.0, name: $0.1, calls: $0.2, detail: $0.3) }
        }
    }
}

/// Runs `body` on a new thread after `microseconds`.
private final class Poker: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: @Sendable () -> Void
    private let delay: UInt32

    init(after microseconds: UInt32, _ body: @escaping @Sendable () -> Void) {
        self.body = body
        self.delay = microseconds
        let retained = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &thread, nil,
            { argument in
                let poker = Unmanaged<Poker>.fromOpaque(argument!).takeRetainedValue()
                usleep(poker.delay)
                poker.body()
                return nil
            }, retained)
    }

    func join() { pthread_join(thread, nil) }
}
