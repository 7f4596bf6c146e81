import Foundation

/// What a finished process printed and how it ended.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let output: String
    public let error: String

    public init(status: Int32, output: String, error: String) {
        self.status = status
        self.output = output
        self.error = error
    }
}

/// Runs the built executable `name` (from this package's build folder) with `arguments`,
/// under `prefix` (for example `["setpriv", ...]`) if given; kills it after `timeout`.
public func runBuilt(
    _ name: String, _ arguments: [String], prefix: [String] = [], timeout: Duration = .seconds(60)
) throws -> ProcessResult {
    let executable = Strace.buildDirectory() + "/" + name
    guard FileManager.default.isExecutableFile(atPath: executable) else {
        throw ProcessFailure("\(executable) is missing: run `swift build` first")
    }
    let command = prefix.isEmpty ? executable : prefix[0]
    let rest = prefix.isEmpty ? arguments : Array(prefix.dropFirst()) + [executable] + arguments
    return try run(command, rest, timeout: timeout)
}

/// Runs `command` (a path, or a name looked up in `PATH`) and waits for it, at most `timeout`.
public func run(_ command: String, _ arguments: [String], timeout: Duration = .seconds(60)) throws -> ProcessResult {
    let path = command.hasPrefix("/") ? command : try Strace.executable(named: command).orThrow("\(command) is not installed")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = ContinuousClock.now + timeout
    // Drain both pipes on threads of their own while waiting, so a chatty process
    // cannot fill one and stall (and no thread of Swift's pool blocks).
    let printed = Shared(Data())
    let complained = Shared(Data())
    let readers = [
        ThreadForTest { printed.value = output.fileHandleForReading.readDataToEndOfFile() },
        ThreadForTest { complained.value = error.fileHandleForReading.readDataToEndOfFile() },
    ]
    while process.isRunning && ContinuousClock.now < deadline { usleep(2_000) }
    let late = process.isRunning
    if late { process.terminate() }
    process.waitUntilExit()
    for reader in readers { reader.join() }
    if late { throw ProcessFailure("\(command) \(arguments.joined(separator: " ")) did not end within \(timeout)") }
    return ProcessResult(
        status: process.terminationStatus, output: String(decoding: printed.value, as: UTF8.self),
        error: String(decoding: complained.value, as: UTF8.self))
}

/// A process could not be run as the test wanted.
public struct ProcessFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let value = self else { throw ProcessFailure(message) }
        return value
    }
}
