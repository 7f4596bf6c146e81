public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Child processes of a benchmark run.
public enum Run {
    public struct Result {
        public let status: Int32
        public let output: String
        public let error: String
    }

    /// Runs `command` to its end and returns what it printed.
    public static func capture(_ command: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read both to the end before waiting: a full pipe would stall the child.
        let errorData = Locked(Data())
        let reader = Thread { errorData.set(error.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(1_000) }
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData.value, as: UTF8.self))
    }

    /// `taskset -c CPU` before `command` when the machine has more than one CPU.
    public static func pinned(_ cpu: Int, _ command: [String]) -> [String] {
        guard ProcessInfo.processInfo.activeProcessorCount > 1, FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset")
        else { return command }
        return ["/usr/bin/taskset", "-c", "\(cpu)"] + command
    }
}

/// A server started for one measurement: it prints "... listening on HOST:PORT" first.
public final class Server {
    public let process = Process()
    public let port: UInt16
    private let output = Pipe()

    public init(_ command: [String]) throws {
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let last = text.split(separator: "\n").first?.split(separator: ":").last, let port = UInt16(last) else {
            process.terminate()
            throw BenchError("\(command.joined(separator: " ")) did not print its address: \(text)")
        }
        self.port = port
    }

    public var pid: Int32 { process.processIdentifier }

    /// Ends it (SIGTERM, then SIGKILL after 10 s).
    public func stop() {
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A value set once by another thread.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    private var wasSet = false
    public init(_ value: Value) { stored = value }
    public func set(_ value: Value) {
        lock.lock()
        stored = value
        wasSet = true
        lock.unlock()
    }
    public var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return wasSet
    }
    public var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
