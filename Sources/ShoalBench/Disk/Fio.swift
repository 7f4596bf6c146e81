import Foundation

/// fio's side of `shoal-bench disk`: one `fio` process per run, read back as JSON.
struct FioRun: Sendable {
    enum Engine: String, CaseIterable, Sendable {
        /// libaio, reaping with the io_getevents system call.
        case libaio
        /// libaio reading the completion ring in user space (a spinning reaper).
        case libaioUserspace
        /// io_uring.
        case ioUring

        var label: String {
            switch self {
            case .libaio: "fio libaio"
            case .libaioUserspace: "fio libaio userspace_reap"
            case .ioUring: "fio io_uring"
            }
        }

        var key: String {
            switch self {
            case .libaio: "fio"
            case .libaioUserspace: "fio_userspace_reap"
            case .ioUring: "fio_io_uring"
            }
        }

        var arguments: [String] {
            switch self {
            case .libaio: ["--ioengine=libaio"]
            case .libaioUserspace: ["--ioengine=libaio", "--userspace_reap=1", "--iodepth_batch_complete_min=0"]
            case .ioUring: ["--ioengine=io_uring"]
            }
        }
    }

    let fio: String
    let path: String
    let sizeMiB: Int
    let pattern: DiskPattern
    let depth: Int
    let seconds: Double
    let engine: Engine

    /// The command line, as docs/performance.md quotes it.
    var commandLine: [String] {
        [
            fio, "--name=shoal-bench", "--filename=\(path)", "--size=\(sizeMiB)M", "--direct=1",
            "--rw=\(pattern.rawValue)", "--bs=\(pattern.blockSize >> 10)k", "--iodepth=\(depth)",
            "--runtime=\(format(seconds, 1))", "--time_based", "--norandommap", "--randrepeat=0",
            "--output-format=json",
        ] + engine.arguments
    }

    func run() throws -> DiskResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fio)
        process.arguments = Array(commandLine.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("fio exited with \(process.terminationStatus)") }
        // fio may print warnings before the JSON object.
        guard let start = data.firstIndex(of: UInt8(ascii: "{")),
            let object = try JSONSerialization.jsonObject(with: data[start...]) as? [String: Any],
            let job = (object["jobs"] as? [[String: Any]])?.first,
            let side = job[pattern == .randwrite ? "write" : "read"] as? [String: Any],
            let ios = side["total_ios"] as? Int,
            let runtime = side["runtime"] as? Int,
            let usr = job["usr_cpu"] as? Double, let sys = job["sys_cpu"] as? Double
        else { throw BenchError("fio's JSON output was not understood") }
        let seconds = Double(runtime) / 1e3
        return DiskResult(ios: ios, seconds: seconds, cpuNanoseconds: (usr + sys) / 100 * seconds * 1e9)
    }
}
