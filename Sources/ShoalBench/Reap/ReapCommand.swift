import ArgumentParser
import ShoalKernel

extension Reaper: ExpressibleByArgument {}

/// `shoal-bench reap`: the cost of one reap, user space against libaio and the system call.
struct ReapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reap",
        abstract: "Nanoseconds per reap: Shoal's user-space reaper, libaio's io_getevents and the raw system call.",
        discussion: """
            Cases: an empty ring, and 1, 8 or 32 completions ready per reap. Every reap asks \
            for whatever is ready with a zero timeout. The reapers run alternately within each \
            round, in rotating order; the table shows the median and min-max over rounds.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Run only this reaper's loops (userspace, libaio or syscall), e.g. under strace.")
    var only: Reaper?

    @Flag(help: "Fewer iterations per round (for tests and strace runs).")
    var quick = false

    func validate() throws {
    }

    func run() throws {
        var bench = try ReapBench(fills: quick ? 1 : 8, emptyIterations: quick ? 2_000 : 100_000)
        let methods = only.map { [$0] } ?? Reaper.allCases
        var samples: [ReapCase: [Reaper: [Double]]] = [:]
        for round in -1..<common.rounds {  // round -1 warms up and is discarded
            for benchCase in ReapCase.allCases {
                for step in 0..<methods.count {
                    let method = methods[(step + max(round, 0)) % methods.count]
                    let nanoseconds = try bench.measure(method, benchCase)
                    if round >= 0 { samples[benchCase, default: [:]][method, default: []].append(nanoseconds) }
                }
            }
        }
        let report = ReapReport(samples: samples, methods: methods, rounds: common.rounds, counters: bench.reaperCounters)
        print(report.table())
        if common.json { print(report.json()) }
    }
}
