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
    try RunningProcess(built: name, arguments, prefix: prefix).wait(timeout: timeout)
}

/// Runs `command` (a path, or a name looked up in `PATH`) and waits for it, at most `timeout`.
public func run(_ command: String, _ arguments: [String], timeout: Duration = .seconds(60)) throws -> ProcessResult {
    let path = command.hasPrefix("/") ? command : try Strace.executable(named: command).orThrow("\(command) is not installed")
    let name = ([command] + arguments).joined(separator: " ")
    return try RunningProcess(executable: path, arguments, name: name).wait(timeout: timeout)
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
