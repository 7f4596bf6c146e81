/// An operation did not finish within its time limit.
public struct TimeoutError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The limit that passed.
    public let limit: Duration
    /// What timed out, when known: "read from 10.0.0.7:443", "connect to [::1]:80".
    public let operation: String?

    /// A timeout of `limit`, for `operation` when known.
    public init(limit: Duration, operation: String? = nil) {
        self.limit = limit
        self.operation = operation
    }

    /// A sentence a person can read.
    public var description: String {
        // A negative limit means none at all: the message says what was enforced.
        "\(operation ?? "the operation") did not finish within \(max(limit, .zero))"
    }
}

extension Reactor {
    /// Runs `operation` on the reactor, and cancels it if it has not finished within
    /// `limit`, throwing ``TimeoutError``.
    ///
    /// Cancellation is cooperative: Shoal's own waits (sleep, readiness, AIO) end at
    /// once; an operation that ignores cancellation delays the timeout until it returns.
    ///
    /// - Throws: ``TimeoutError``, what `operation` threw, or ``ReactorError/stopped(_:)``
    ///   after the reactor stopped.
    /// Works during shutdown too, so a task can bound a last flush. A limit too long
    /// for the clock never expires.
    public func withTimeout<Success: Sendable>(
        _ limit: Duration,
        _ operation: @escaping @Sendable () async throws -> Success
    ) async throws -> Success {
        // After stop no timer fires: refuse rather than run without a limit.
        if currentPhase == .stopped { throw ReactorError.stopped("no timeout") }
        return try await withThrowingTaskGroup(of: Success.self) { group in
            group.addTask(executorPreference: self) { try await operation() }
            group.addTask(executorPreference: self) {
                try await self.sleep(for: limit)
                throw TimeoutError(limit: max(limit, .zero))
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}
