import BenchSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What echo-load reported for one measurement.
struct LoadResult {
    let requests: Double
    let rps: Double
    let p50: Double
    let p99: Double

    init(parsing line: String) throws {
        var fields: [String: Double] = [:]
        for pair in line.split(separator: " ") {
            let parts = pair.split(separator: "=")
            if parts.count == 2, let value = Double(parts[1]) { fields[String(parts[0])] = value }
        }
        guard let requests = fields["requests"], let rps = fields["rps"], let p50 = fields["p50_us"], let p99 = fields["p99_us"]
        else { throw BenchError("echo-load printed \(line)") }
        self.requests = requests
        self.rps = rps
        self.p50 = p50
        self.p99 = p99
    }
}

/// Runs one server and echo-load against it.
func measure(_ peer: Peer, shape: Shape, load: String, seconds: Double, warmup: Double) throws -> LoadResult {
    let server = try Server(Run.pinned(0, peer.command))
    defer { server.stop() }
    return try runLoad(load, port: server.port, shape: shape, seconds: seconds, warmup: warmup, name: peer.name)
}

private func runLoad(_ load: String, port: UInt16, shape: Shape, seconds: Double, warmup: Double, name: String) throws -> LoadResult {
    let command = Run.pinned(1, [load, "\(port)", "\(shape.connections)", "\(shape.size)", "\(seconds)", "\(warmup)"])
    let result = try Run.capture(command[0], Array(command.dropFirst()))
    guard result.status == 0, let line = result.output.split(separator: "\n").last else {
        throw BenchError("echo-load against \(name) failed (\(result.status)): \(result.error)")
    }
    return try LoadResult(parsing: String(line))
}

/// System calls per request of one server, counted while it serves one measurement.
struct SyscallCount {
    let perRequest: Double
    /// The most frequent calls, per request.
    let top: String
    /// `perf` or `strace`.
    let tool: String
}

/// The calls an echo server makes on its hot path, counted one by one.
private let namedCalls = [
    "epoll_wait", "epoll_pwait", "recvfrom", "sendto", "read", "write", "readv", "writev", "io_submit", "io_getevents",
    "io_pgetevents", "epoll_ctl",
]

/// Counts with `perf stat` on the kernel's syscall tracepoints when perf is there (it
/// does not slow the server), else with `strace -c -f` (which stops the server at every
/// call and so changes how much each epoll_wait finds).
func countSyscalls(_ peer: Peer, shape: Shape, load: String) throws -> SyscallCount {
    let server = try Server(Run.pinned(0, peer.command))
    defer { server.stop() }
    let usePerf = FileManager.default.isExecutableFile(atPath: "/usr/bin/perf")
    let summary = FileManager.default.temporaryDirectory.appendingPathComponent("echo-bench-syscalls-\(peer.name)").path
    let counter = Process()
    if usePerf {
        let events = (["raw_syscalls:sys_enter"] + namedCalls.map { "syscalls:sys_enter_\($0)" }).joined(separator: ",")
        counter.executableURL = URL(fileURLWithPath: "/usr/bin/perf")
        counter.arguments = ["stat", "-e", events, "-p", "\(server.pid)", "-o", summary]
    } else {
        counter.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        counter.arguments = ["-c", "-f", "-o", summary, "-p", "\(server.pid)"]
    }
    counter.standardError = FileHandle.nullDevice
    try counter.run()
    usleep(500_000)  // attached before the load starts
    let result = try runLoad(load, port: server.port, shape: shape, seconds: 3, warmup: 0, name: peer.name)
    kill(counter.processIdentifier, SIGINT)
    counter.waitUntilExit()
    let text = try String(contentsOfFile: summary, encoding: .utf8)
    var total = 0.0
    var calls: [(String, Double)] = []
    for line in text.split(separator: "\n") {
        let columns = line.split(separator: " ", omittingEmptySubsequences: true)
        if usePerf {
            // "     123,456      syscalls:sys_enter_recvfrom"
            guard columns.count >= 2, let count = Double(columns[0].replacingOccurrences(of: ",", with: "")) else { continue }
            let event = String(columns[1])
            if event == "raw_syscalls:sys_enter" {
                total = count
            } else if event.hasPrefix("syscalls:sys_enter_") {
                calls.append((String(event.dropFirst("syscalls:sys_enter_".count)), count))
            }
        } else {
            // "% time  seconds  usecs/call  calls  errors  syscall": calls is the fourth column.
            guard columns.count >= 5, let count = Double(columns[3]) else { continue }
            if columns.last == "total" { total = count } else { calls.append((String(columns.last!), count)) }
        }
    }
    guard total > 0, result.requests > 0 else { throw BenchError("no system calls counted for \(peer.name)") }
    let top = calls.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }.prefix(5).map { String(format: "%@ %.2f", $0.0, $0.1 / result.requests) }
    return SyscallCount(perRequest: total / result.requests, top: top.joined(separator: ", "), tool: usePerf ? "perf stat" : "strace -c -f")
}
