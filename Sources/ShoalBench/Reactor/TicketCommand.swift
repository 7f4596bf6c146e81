import ArgumentParser
import Shoal
import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

/// `shoal-bench ticket`: the workload of the libaio ticket, reaped in user space and with
/// the system call forced, alternately in one run.
struct TicketCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticket",
        abstract:
            "One thread with outstanding O_DIRECT reads and a queue of compute tasks: user-space reaping against the forced io_getevents call.",
        discussion: """
            A reactor runs --depth reader tasks, each reading random 4 KiB blocks of the data \
            file and hashing every block it reads (FNV-1a), and --compute tasks that hash a \
            buffer in a loop and yield when the task quota is spent. The same run is made with \
            the reactor's reaper reading the AIO ring in user space (Shoal) and with every reap \
            forced to be an io_getevents system call (libaio's behaviour), alternately.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Data file, on a disk file system where O_DIRECT works (created if missing).")
    var file = ".shoal-bench-data"

    @Option(name: .customLong("size-mib"), help: "Size of the data file in MiB.")
    var sizeMiB = 256

    @Option(help: "Seconds per measured run.")
    var seconds: Double = 2

    @Option(help: "Reader tasks, each with one read in flight.")
    var depth = 32

    @Option(help: "Compute tasks hashing in a loop beside the readers.")
    var compute = 2

    @Flag(help: "Use the page cache instead of O_DIRECT (reads then complete inside io_submit).")
    var buffered = false

    func validate() throws {
        guard sizeMiB >= 1 && sizeMiB <= 65_536 else { throw ValidationError("--size-mib must be between 1 and 65536") }
        guard seconds > 0 && seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        guard depth >= 1 && depth <= 1_024 else { throw ValidationError("--depth must be between 1 and 1024") }
        guard compute >= 0 && compute <= 64 else { throw ValidationError("--compute must be between 0 and 64") }
    }

    func run() throws {
        try TicketData.prepare(path: file, bytes: sizeMiB << 20)
        let workload = TicketWorkload(
            path: file, blocks: (sizeMiB << 20) / TicketData.block, seconds: seconds,
            depth: depth, compute: compute, direct: !buffered)
        var results: [Bool: [TicketResult]] = [:]
        for round in -1..<common.rounds {
            for step in 0..<2 {
                let forced = (step + max(round, 0)) % 2 == 1
                let result = try workload.run(forcingSystemCall: forced)
                if round >= 0 { results[forced, default: []].append(result) }
            }
        }
        let report = TicketReport(
            userSpace: results[false]!, forced: results[true]!, workload: workload,
            fileSystem: (try? FileCalls.fileSystemType(of: FilePath(file))) ?? "unknown")
        print(report.table(rounds: common.rounds))
        if common.json { print(report.json()) }
    }
}

/// What one run of the workload measured.
struct TicketResult {
    let reads: Int
    let computeUnits: Int
    let seconds: Double
    let cpuNanoseconds: UInt64
    let stats: ReactorStats
    let checksum: UInt64
}

/// The data file: a pattern written once, reused by later runs.
enum TicketData {
    static let block = 4_096

    static func prepare(path: String, bytes: Int) throws {
        if let fd = try? FileCalls.open(FilePath(path), options: .readOnly),
            (try? FileCalls.size(of: fd.descriptor)) == Int64(bytes)
        {
            return
        }
        let fd = try FileCalls.open(FilePath(path), options: [.writeOnly, .create, .truncate])
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        while offset < bytes {
            for index in chunk.indices { chunk[index] = UInt8(truncatingIfNeeded: (offset + index) &* 2_654_435_761 >> 13) }
            let written = chunk.withUnsafeBytes { write(fd.rawValue, $0.baseAddress, min($0.count, bytes - offset)) }
            guard written > 0 else { throw BenchError("writing \(path) failed: errno \(errno)") }
            offset += written
        }
        try FileCalls.sync(fd.descriptor)
    }
}

/// FNV-1a over `count` bytes: the compute work done per block.
@inline(__always)
func fnv1a(_ bytes: UnsafeRawPointer, count: Int, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
    var hash = seed
    let words = bytes.assumingMemoryBound(to: UInt64.self)
    for index in 0..<(count / 8) {
        hash = (hash ^ words[index]) &* 0x0000_0100_0000_01b3
    }
    return hash
}
