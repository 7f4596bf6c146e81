public import SystemPackage

/// Errors of the reactor itself (as opposed to a failed system call).
public enum ReactorError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A ``Reactor/Configuration`` field is out of range; the text names it.
    case invalidConfiguration(String)
    /// The reactor has stopped (its ``Reactor/run(configuration:_:)`` returned), or is
    /// shutting down and no longer accepts this kind of work.
    case stopped(String)
    /// An argument is out of range (a negative offset, a count larger than the
    /// buffer); the text names it.
    case invalidArgument(String)
    /// The descriptor's readiness registration was removed while a task waited on it.
    case deregistered(descriptor: FileDescriptor)
    /// The listener or connection was closed before or during the call; the text names it.
    case closed(String)
    /// Another task already waits for this readiness on this registration: one reader
    /// and one writer may wait at a time.
    case alreadyWaiting(descriptor: FileDescriptor, interest: Interest)

    /// A sentence a person can read.
    public var description: String {
        switch self {
        case .invalidConfiguration(let what): "invalid reactor configuration: \(what)"
        case .stopped(let what): "the reactor has stopped: \(what)"
        case .invalidArgument(let what): "invalid argument: \(what)"
        case .deregistered(let fd):
            "descriptor \(fd.rawValue) was deregistered from the reactor while a task waited on it"
        case .closed(let what): "\(what): it was closed"
        case .alreadyWaiting(let fd, let interest):
            "another task already waits for descriptor \(fd.rawValue) to be \(interest); "
                + "one reader and one writer may wait at a time"
        }
    }
}
