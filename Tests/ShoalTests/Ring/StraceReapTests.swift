import Foundation
import Testing

/// Checks, with strace, that reaping ready completions makes no io_getevents system call.
///
/// Runs `shoal-bench reap --only userspace --quick` (built next to this test bundle)
/// under `strace -f -c`; the run submits hundreds of thousands of completions and
/// reaps every one of them in user space.
@Suite("strace: the user-space reap loop makes no io_getevents call")
struct StraceReapTests {
    @Test("no io_getevents while events are ready; io_submit is seen, so the trace works")
    func noSystemCallWhileEventsReady() throws {
        let strace = try #require(Self.executable(named: "strace"), "strace is missing: apt-get install -y strace")
        let bench = Self.buildDirectory() + "/shoal-bench"
        try #require(FileManager.default.isExecutableFile(atPath: bench), "\(bench) is missing: run `swift build` first")
        let summary = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-strace-\(getpid()).txt").path
        defer { try? FileManager.default.removeItem(atPath: summary) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: strace)
        process.arguments = [
            "-f", "-c", "-o", summary, "-e", "trace=io_getevents,io_pgetevents,io_submit",
            bench, "reap", "--only", "userspace", "--quick", "--rounds", "1",
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "strace or shoal-bench failed")

        let calls = Self.callCounts(try String(contentsOfFile: summary, encoding: .utf8))
        #expect((calls["io_submit"] ?? 0) > 0, "the trace saw no io_submit: \(calls)")
        #expect(calls["io_getevents"] == nil, "io_getevents was called \(calls["io_getevents"] ?? 0) times")
        #expect(calls["io_pgetevents"] == nil)
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
