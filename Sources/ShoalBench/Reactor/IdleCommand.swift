import ArgumentParser
import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// `shoal-bench idle`: what an idle reactor costs.
struct IdleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Runs an idle reactor and reports its CPU time, blocking calls and system calls by kind.",
        discussion: """
            The reactor's root task sleeps for the given time with nothing else to do. An idle \
            reactor should block in the kernel once and use next to no CPU.
            """
    )

    @Option(help: "How long to stay idle, in seconds.")
    var seconds: Double = 2

    @Flag(help: "Print one JSON object on the last line.")
    var json = false

    func validate() throws {
        guard seconds > 0 && seconds <= 3_600 else { throw ValidationError("--seconds must be in (0, 3600]") }
    }

    func run() throws {
        let nanoseconds = Int64(seconds * 1e9)
        let (stats, cpu, reactor) = try runReactor { reactor -> (ReactorStats, UInt64, Reactor) in
            let before = reactor.stats
            let cpuBefore = processCPUNanoseconds()
            try await reactor.sleep(for: .nanoseconds(nanoseconds))
            return (reactor.stats.since(before), processCPUNanoseconds() - cpuBefore, reactor)
        }
        // The whole run, shutdown included: what `strace -c` on this process counts.
        let totals = reactor.stats
        let cpuMilliseconds = Double(cpu) / 1e6
        let syscalls: [(String, Int)] = [
            ("io_getevents", stats.ioGeteventsCalls), ("io_submit", stats.ioSubmitCalls),
            ("io_cancel", stats.ioCancelCalls), ("epoll_wait", stats.epollWaitCalls),
            ("eventfd_read", stats.eventfdReads), ("eventfd_write", stats.eventfdWrites),
        ]
        print(
            """
            shoal-bench idle: \(format(seconds, 1)) s with nothing to do
            \(MachineInfo.current().line)

            cpu time:        \(format(cpuMilliseconds, 3)) ms (process)
            blocking calls:  \(stats.sleeps)
            ticks:           \(stats.ticks)
            time asleep:     \(format(Double(stats.nanosecondsAsleep) / 1e6, 1)) ms
            system calls:    \(syscalls.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
            whole run:       io_setup 1, io_submit \(totals.ioSubmitCalls), io_getevents \(totals.ioGeteventsCalls), io_cancel \(totals.ioCancelCalls), epoll_wait \(totals.epollWaitCalls)
            """)
        if json {
            print(
                JSONValue.object([
                    ("benchmark", .string("idle")),
                    ("seconds", .number(seconds)),
                    ("cpu_ms", .number(cpuMilliseconds)),
                    ("blocking_calls", .integer(stats.sleeps)),
                    ("ticks", .integer(stats.ticks)),
                    ("syscalls", .object(syscalls.map { ($0.0, .integer($0.1)) })),
                    (
                        "run_totals",
                        .object([
                            ("io_submit", .integer(totals.ioSubmitCalls)), ("io_getevents", .integer(totals.ioGeteventsCalls)),
                            ("io_cancel", .integer(totals.ioCancelCalls)), ("epoll_wait", .integer(totals.epollWaitCalls)),
                        ])
                    ),
                ]).text)
        }
    }
}
