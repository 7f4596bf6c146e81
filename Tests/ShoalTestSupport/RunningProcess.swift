import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A process started by a test that keeps running while the test talks to it (a
/// server): its output is collected as it comes; the test signals it and waits for it.
public final class RunningProcess: @unchecked Sendable {
    private let process = Process()
    private let printed = Shared(Data())
    private let complained = Shared(Data())
    private var readers: [ThreadForTest] = []
    private let name: String

    /// Starts the built executable `name` with `arguments`, under `prefix` if given
    /// (for example `["prlimit", "--nofile=32:32", "--"]`).
    public convenience init(built name: String, _ arguments: [String], prefix: [String] = []) throws {
        let executable = Strace.buildDirectory() + "/" + name
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ProcessFailure("\(executable) is missing: run `swift build` first")
        }
        if prefix.isEmpty {
            try self.init(executable: executable, arguments, name: name)
        } else {
            let tool =
                prefix[0].hasPrefix("/") ? prefix[0] : try Strace.executable(named: prefix[0]).orThrow("\(prefix[0]) is not installed")
            try self.init(executable: tool, Array(prefix.dropFirst()) + [executable] + arguments, name: name)
        }
    }

    /// Starts the program at `executable` (an absolute path) with `arguments`; `name`
    /// is how messages call it.
    public init(executable: String, _ arguments: [String], name: String) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain both pipes on threads of their own, so a chatty process cannot fill one
        // and stall (and no thread of Swift's pool blocks).
        let printed = printed
        let complained = complained
        readers = [
            ThreadForTest { Self.collect(output.fileHandleForReading, into: printed) },
            ThreadForTest { Self.collect(error.fileHandleForReading, into: complained) },
        ]
    }

    private static func collect(_ handle: FileHandle, into sink: Shared<Data>) {
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return }
            sink.update { $0.append(chunk) }
        }
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// What it printed on standard output so far.
    public var output: String { String(decoding: printed.value, as: UTF8.self) }

    /// What it printed on standard error so far.
    public var error: String { String(decoding: complained.value, as: UTF8.self) }

    /// Waits until standard output contains `text`; throws if the process ends first
    /// or `timeout` passes.
    public func waitForOutput(containing text: String, timeout: Duration = .seconds(30)) throws {
        let deadline = ContinuousClock.now + timeout
        while !output.contains(text) {
            guard process.isRunning else {
                throw ProcessFailure("\(name) ended (status \(process.terminationStatus)) before printing \"\(text)\": \(error)")
            }
            guard ContinuousClock.now < deadline else {
                throw ProcessFailure("\(name) did not print \"\(text)\" within \(timeout): \(output) \(error)")
            }
            usleep(2_000)
        }
    }

    /// Waits until standard error contains `text` (at most 30 s).
    public func waitForError(containing text: String, timeout: Duration = .seconds(30)) throws {
        let deadline = ContinuousClock.now + timeout
        while !error.contains(text) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw ProcessFailure("\(name) did not print \"\(text)\" on standard error: \(error)")
            }
            usleep(2_000)
        }
    }

    /// Sends `signal` to the process.
    public func signal(_ signal: Int32) {
        Glibc.kill(process.processIdentifier, signal)
    }

    /// Whether it is still running.
    public var isRunning: Bool { process.isRunning }

    /// Waits for the process to end, at most `timeout` (then kills it and throws).
    public func wait(timeout: Duration = .seconds(30)) throws -> ProcessResult {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(2_000) }
        let late = process.isRunning
        if late { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        // Joined once: a thread joined twice is undefined behaviour (kill() may follow).
        for reader in readers { reader.join() }
        readers = []
        if late { throw ProcessFailure("\(name) did not end within \(timeout)") }
        return ProcessResult(status: process.terminationStatus, output: output, error: error)
    }

    /// Ends the process (SIGKILL) if it still runs; for `defer`.
    public func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        for reader in readers { reader.join() }
        readers = []
    }

    /// Its resident memory in KiB (`VmRSS` from `/proc`), if it still runs.
    public var residentKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }
}
