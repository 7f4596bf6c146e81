import Foundation
import Testing

/// Runs the built `shoal-bench` under `strace -c`, to check system call counts.
public enum Strace {
    /// Runs the built `shoal-bench` with `arguments` under `strace -f -c -e trace=calls`;
    /// returns the call counts and what the benchmark printed.
    public static func traceBench(_ arguments: [String], calls: String) throws -> ([String: Int], String) {
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
    public static func callCounts(_ text: String) -> [String: Int] {
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
    public static func buildDirectory() -> String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // Swift Testing may run from inside `<Product>.xctest`: step out of bundles.
        while directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        return directory.path
    }

    public static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
