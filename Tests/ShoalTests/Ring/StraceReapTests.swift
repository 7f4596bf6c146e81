import Foundation
import Testing

/// Checks, with strace, that reaping ready completions makes no io_getevents system call.
///
/// Runs `shoal-bench reap --only userspace --quick` (built next to this test bundle)
/// under `strace -f -c`; the run submits hundreds of thousands of completions and
/// reaps every one of them in user space.
@Suite("strace: the user-space reap loop makes no io_getevents call; the counters are right")
struct StraceReapTests {
    @Test("no io_getevents while events are ready; io_submit is seen, so the trace works")
    func noSystemCallWhileEventsReady() throws {
        let (calls, _) = try Self.traceBench(
            ["reap", "--only", "userspace", "--quick", "--rounds", "1"],
            calls: "io_getevents,io_pgetevents,io_submit")
        #expect((calls["io_submit"] ?? 0) > 0, "the trace saw no io_submit: \(calls)")
        #expect(calls["io_getevents"] == nil, "io_getevents was called \(calls["io_getevents"] ?? 0) times")
        #expect(calls["io_pgetevents"] == nil)
    }

    @Test("the reactor's own system call counters agree with strace")
    func reactorCountersMatchStrace() throws {
        let (calls, output) = try Self.traceBench(
            ["idle", "--seconds", "0.2", "--json"], calls: "io_submit,io_getevents,io_cancel,epoll_wait,io_setup")
        let json = try #require(output.split(separator: "\n").last)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let totals = try #require(object?["run_totals"] as? [String: Int])
        #expect(calls["io_setup"] == 1)
        for name in ["io_submit", "io_getevents", "io_cancel", "epoll_wait"] {
            #expect((calls[name] ?? 0) == totals[name], "\(name): strace \(calls[name] ?? 0), reactor \(totals[name] ?? -1)")
        }
        #expect((totals["io_getevents"] ?? 0) >= 1)
    }

    /// Runs the built `shoal-bench` with `arguments` under `strace -f -c -e trace=calls`;
    /// returns the call counts and what the benchmark printed.
    static func traceBench(_ arguments: [String], calls: String) throws -> ([String: Int], String) {
        let strace = try #require(executable(named: "strace"), "strace is missing: apt-get install -y strace")
        let bench = buildDirectory() + "/shoal-bench"
        try #require(FileManager.default.isExecutableFile(atPath: bench), "\(bench) is missing: run `swift build` first")
        let summary = FileManager.default.temporaryDirectory
            .appendingPathComponent("shoal-strace-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt").path
        defer { try? FileManager.default.removeItem(atPath: summary) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: strace)
        process.arguments = ["-f", "-c", "-o", summary, "-e", "trace=\(calls)", bench] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "strace or shoal-bench failed")
        return (callCounts(try String(contentsOfFile: summary, encoding: .utf8)), String(decoding: printed, as: UTF8.self))
    }

    /// Parses `strace -c` output: system call name to number of calls.
    static func callCounts(_ text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // % time, seconds, usecs/call, calls, [errors,] syscall
            guard fields.count >= 5, let name = fields.last, name != "total", name != "syscall",
                let calls = Int(fields[3])
            else { continue }
            counts[String(name)] = calls
        }
        return counts
    }

    /// The folder holding this test bundle, where SwiftPM also puts the package's executables.
    static func buildDirectory() -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // Swift Testing may run from inside `<Product>.xctest`: step out of bundles.
        while directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        return directory.path
    }

    static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
