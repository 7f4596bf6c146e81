import ArgumentParser
import Shoal
import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

/// `shoal-bench disk`: Shoal's direct I/O against fio's, alternately in one run.
struct DiskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk",
        abstract: "O_DIRECT disk I/O on one reactor against fio (libaio, libaio with user-space reap, io_uring).",
        discussion: """
            For each workload, one round runs Shoal and each fio engine once, for --seconds \
            each, in an order that rotates from round to round. Shoal runs --depth tasks on \
            one reactor, each with one request in flight (random I/O), or a FileReader with \
            --depth reads in flight (sequential). IOPS and CPU time per I/O (Shoal: the \
            process's CPU time; fio: its job's usr+sys) are reported as median [min-max] \
            over the rounds. fio must be installed (apt-get install -y fio).
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Data file on the disk to measure (created if missing).")
    var file = ".shoal-bench-disk"

    @Option(name: .customLong("size-mib"), help: "Size of the data file in MiB.")
    var sizeMiB = 256

    @Option(help: "Seconds per run.")
    var seconds: Double = 5

    @Option(help: "Requests in flight.")
    var depth = 32

    @Option(help: "Workloads, comma-separated: randread, read, randwrite.")
    var workloads = "randread,read,randwrite"

    func validate() throws {
        guard (16...65_536).contains(sizeMiB) else { throw ValidationError("--size-mib must be between 16 and 65536") }
        guard seconds > 0 && seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        guard (1...1_024).contains(depth) else { throw ValidationError("--depth must be between 1 and 1024") }
        guard !patterns.isEmpty, patterns.count == workloads.split(separator: ",").count else {
            throw ValidationError("--workloads takes randread, read and randwrite, got \(workloads)")
        }
    }

    private var patterns: [DiskPattern] { workloads.split(separator: ",").compactMap { DiskPattern(rawValue: String($0)) } }

    func run() throws {
        guard let fio = findExecutable("fio") else {
            throw BenchError("fio is missing: apt-get install -y fio")
        }
        try TicketData.prepare(path: file, bytes: sizeMiB << 20)
        print("shoal-bench disk: median [min-max] of \(common.rounds) rounds, \(format(seconds, 1)) s per run, depth \(depth)")
        print(MachineInfo.current().line)
        print("data file: \(file), \(sizeMiB) MiB on \((try? FileCalls.fileSystemType(of: FilePath(file))) ?? "unknown")\n")
        var json: [(String, JSONValue)] = [("benchmark", .string("disk"))]
        for pattern in patterns {
            let report = try measure(pattern, fio: fio)
            print(report.table)
            json.append((pattern.rawValue, report.json))
            if pattern == patterns.first { json += report.headline }
        }
        if common.json { print(JSONValue.object(json).text) }
    }

    private func measure(_ pattern: DiskPattern, fio: String) throws -> DiskReport {
        let shoal = ShoalDiskRun(path: file, size: sizeMiB << 20, pattern: pattern, depth: depth, seconds: seconds)
        let peers = FioRun.Engine.allCases.map {
            FioRun(fio: fio, path: file, sizeMiB: sizeMiB, pattern: pattern, depth: depth, seconds: seconds, engine: $0)
        }
        let contenders = 1 + peers.count
        var results = [[DiskResult]](repeating: [], count: contenders)
        for round in -1..<common.rounds {
            for step in 0..<contenders {
                let which = (step + max(round, 0)) % contenders
                let result = which == 0 ? try shoal.run() : try peers[which - 1].run()
                if round >= 0 { results[which].append(result) }
            }
        }
        return DiskReport(pattern: pattern, shoal: results[0], peers: Array(zip(peers, results.dropFirst())))
    }
}

/// The table and JSON of one workload.
struct DiskReport {
    let pattern: DiskPattern
    let shoal: [DiskResult]
    let peers: [(FioRun, [DiskResult])]

    var table: String {
        var lines = ["\(pattern.title) (\(pattern.rawValue))"]
        lines.append(pad("", 28) + pad("IOPS", 28) + pad("CPU µs per I/O", 24) + "Shoal / peer (IOPS)")
        lines.append(
            pad("Shoal", 28) + pad(Summary(shoal.map(\.iops)).formatted(0), 28)
                + Summary(shoal.map(\.cpuMicrosecondsPerIO)).formatted(2))
        for (peer, results) in peers {
            let ratios = zip(shoal, results).map { $0.iops / $1.iops }
            lines.append(
                pad(peer.engine.label, 28) + pad(Summary(results.map(\.iops)).formatted(0), 28)
                    + pad(Summary(results.map(\.cpuMicrosecondsPerIO)).formatted(2), 24) + Summary(ratios).formatted(2) + "x")
        }
        let stats = shoal.compactMap(\.stats)
        let ios = Double(shoal.map(\.ios).reduce(0, +))
        func per(_ count: (ReactorStats) -> Int) -> String { format(Double(stats.map(count).reduce(0, +)) / ios, 2) }
        lines.append(
            "Shoal per I/O: io_submit \(per(\.ioSubmitCalls)), io_getevents \(per(\.ioGeteventsCalls)), "
                + "ticks \(per(\.ticks)), blocking steps \(per(\.sleeps))")
        lines.append("fio command: " + peers[0].0.commandLine.dropLast().joined(separator: " ") + " --ioengine=...\n")
        return lines.joined(separator: "\n")
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("shoal_iops", .number(Summary(shoal.map(\.iops)).median)),
            ("shoal_cpu_us_per_io", .number(Summary(shoal.map(\.cpuMicrosecondsPerIO)).median)),
        ]
        for (peer, results) in peers {
            members.append(("\(peer.engine.key)_iops", .number(Summary(results.map(\.iops)).median)))
            members.append(("\(peer.engine.key)_cpu_us_per_io", .number(Summary(results.map(\.cpuMicrosecondsPerIO)).median)))
            let ratios = zip(shoal, results).map { $0.iops / $1.iops }
            members.append(("ratio_vs_\(peer.engine.key)", .number(Summary(ratios).median)))
        }
        return .object(members)
    }

    /// The keys the issue names, for the first workload: Shoal against fio libaio.
    var headline: [(String, JSONValue)] {
        let libaio = peers[0].1
        return [
            ("shoal_iops", .number(Summary(shoal.map(\.iops)).median)),
            ("fio_iops", .number(Summary(libaio.map(\.iops)).median)),
            ("ratio", .number(Summary(zip(shoal, libaio).map { $0.iops / $1.iops }).median)),
            ("shoal_cpu_us_per_io", .number(Summary(shoal.map(\.cpuMicrosecondsPerIO)).median)),
            ("fio_cpu_us_per_io", .number(Summary(libaio.map(\.cpuMicrosecondsPerIO)).median)),
        ]
    }
}

/// The path of `name` in `PATH`, if it is installed.
func findExecutable(_ name: String) -> String? {
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
}
