import Shoal

/// The table and JSON line of `shoal-bench ticket`.
struct TicketReport {
    let userSpace: [TicketResult]
    let forced: [TicketResult]
    let workload: TicketWorkload
    let fileSystem: String

    private struct Metrics {
        let readsPerSecond: Summary
        let computePerSecond: Summary
        let syscallsPerTick: Summary
        let reapSyscallsPerTick: Summary
        let cpuMicrosecondsPerRead: Summary
        let ticksPerSecond: Summary
    }

    private func metrics(_ results: [TicketResult]) -> Metrics {
        Metrics(
            readsPerSecond: Summary(results.map { Double($0.reads) / $0.seconds }),
            computePerSecond: Summary(results.map { Double($0.computeUnits) / $0.seconds }),
            syscallsPerTick: Summary(results.map { Double($0.stats.systemCalls) / Double(max($0.stats.ticks, 1)) }),
            reapSyscallsPerTick: Summary(results.map { Double($0.stats.ioGeteventsCalls) / Double(max($0.stats.ticks, 1)) }),
            cpuMicrosecondsPerRead: Summary(results.map { Double($0.cpuNanoseconds) / 1e3 / Double(max($0.reads, 1)) }),
            ticksPerSecond: Summary(results.map { Double($0.stats.ticks) / $0.seconds }))
    }

    private func ratio(_ value: (TicketResult) -> Double) -> Summary {
        Summary(zip(userSpace, forced).map { value($0) / value($1) })
    }

    func table(rounds: Int) -> String {
        let shoal = metrics(userSpace)
        let peer = metrics(forced)
        let readRatio = ratio { Double($0.reads) / $0.seconds }
        let computeRatio = ratio { Double($0.computeUnits) / $0.seconds }
        func row(_ name: String, _ a: Summary, _ b: Summary, _ digits: Int) -> String {
            pad(name, 30) + pad(a.formatted(digits), 30) + b.formatted(digits)
        }
        return """
            shoal-bench ticket: \(workload.depth) readers of random 4 KiB blocks (\(workload.direct ? "O_DIRECT" : "page cache")), \
            each block hashed, plus \(workload.compute) compute tasks; \(format(workload.seconds, 1)) s runs, median [min-max] of \(rounds) rounds
            \(MachineInfo.current().line), data file on \(fileSystem)

            \(pad("", 30))\(pad("Shoal (user-space reap)", 30))forced io_getevents (libaio's way)
            \(row("reads per second", shoal.readsPerSecond, peer.readsPerSecond, 0))
            \(row("compute units per second", shoal.computePerSecond, peer.computePerSecond, 0))
            \(row("ticks per second", shoal.ticksPerSecond, peer.ticksPerSecond, 0))
            \(row("system calls per tick", shoal.syscallsPerTick, peer.syscallsPerTick, 3))
            \(row("io_getevents per tick", shoal.reapSyscallsPerTick, peer.reapSyscallsPerTick, 3))
            \(row("CPU µs per read", shoal.cpuMicrosecondsPerRead, peer.cpuMicrosecondsPerRead, 2))

            Shoal / forced: reads \(readRatio.formatted(2))x\(workload.compute > 0 ? ", compute \(computeRatio.formatted(2))x" : "")
            """
    }

    func json() -> String {
        let shoal = metrics(userSpace)
        let peer = metrics(forced)
        return JSONValue.object([
            ("benchmark", .string("ticket")),
            ("file_system", .string(fileSystem)),
            ("direct", .string(workload.direct ? "yes" : "no")),
            ("userspace_reads_per_s", .number(shoal.readsPerSecond.median)),
            ("forced_reads_per_s", .number(peer.readsPerSecond.median)),
            ("userspace_compute_per_s", .number(shoal.computePerSecond.median)),
            ("forced_compute_per_s", .number(peer.computePerSecond.median)),
            ("userspace_syscalls_per_tick", .number(shoal.syscallsPerTick.median)),
            ("forced_syscalls_per_tick", .number(peer.syscallsPerTick.median)),
            ("userspace_cpu_us_per_read", .number(shoal.cpuMicrosecondsPerRead.median)),
            ("forced_cpu_us_per_read", .number(peer.cpuMicrosecondsPerRead.median)),
            ("reads_ratio", .number(ratio { Double($0.reads) / $0.seconds }.median)),
            ("compute_ratio", .number(ratio { Double($0.computeUnits) / $0.seconds }.median)),
        ]).text
    }
}
