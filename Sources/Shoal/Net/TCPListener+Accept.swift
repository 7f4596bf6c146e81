import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

extension TCPListener {
    /// How long accepting pauses when descriptors run out, before it tries again.
    static let backoff: Duration = .milliseconds(50)

    /// Waits for a connection and returns it, set up with ``options``.
    ///
    /// One task accepts at a time: a second waiting `accept()` throws
    /// ``ReactorError/alreadyWaiting(descriptor:interest:)``, and while
    /// ``serve(maxConnections:gracePeriod:_:)`` runs, `accept()` throws
    /// ``ReactorError/invalidArgument(_:)``.
    ///
    /// - Throws: ``ReactorError/closed(_:)`` when the listener is closed (before or
    ///   while waiting); `CancellationError`; ``ReactorError/stopped(_:)``; a
    ///   `SystemCallError` from `accept` other than the ones it rides out
    ///   (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`: back off and retry;
    ///   `ECONNABORTED`, `EINTR`: retry).
    public func accept() async throws -> TCPConnection {
        if reactor.currentPhase == .stopped { throw ReactorError.stopped("accept on \(name)") }
        guard reactor.isOnReactorThread else {
            return TCPConnection(
                try await reactor.hop { _ in
                    try self.refuseWhileServing()
                    return try await self.acceptSocket()
                })
        }
        try refuseWhileServing()
        return TCPConnection(try await acceptSocket())
    }

    private func refuseWhileServing() throws {
        if serving {
            throw ReactorError.invalidArgument("accept on \(name) while serve runs on it: serve takes every connection")
        }
    }

    /// Accepts on the reactor thread.
    nonisolated(nonsending) func acceptSocket() async throws -> TCPSocket {
        var storage = sockaddr_storage()
        while true {
            if closed { throw ReactorError.closed("accept on \(name)") }
            try Task.checkCancellation()
            if mayAccept {
                var accepted: OwnedDescriptor?
                var exhausted: SystemCallError?
                do {
                    accepted = try SocketCalls.accept(descriptor, into: &storage, address: name)
                } catch {
                    guard Self.ridesOut(error.errno) else { throw error }
                    exhausted = error
                }
                if let exhausted {
                    // Out of descriptors or memory: the connection stays in the backlog.
                    // Pause, then try again (edge-triggered epoll would not report it again).
                    noteBackoff(exhausted)
                    try await reactor.sleep(for: Self.backoff)
                    continue
                }
                guard let accepted = accepted.take() else {
                    mayAccept = false
                    continue
                }
                let remote = withUnsafePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
                }
                do {
                    return try TCPSocket.adopt(
                        accepted, remote: remote ?? SocketAddress(.ipv4(0, 0, 0, 0), port: 0), options: options,
                        on: reactor)
                } catch {
                    // This connection could not be set up (it closed already, or the
                    // reactor is out of memory): the next one may be.
                    reactor.logger.debug(
                        "dropped an accepted connection that could not be set up",
                        metadata: ["listener": "\(name)", "error": "\(error)"])
                    continue
                }
            }
            do {
                try await reactor.wait(for: .readable, on: registration, deadline: nil)
            } catch ReactorError.deregistered {
                throw ReactorError.closed("accept on \(name)")
            }
            mayAccept = true
        }
    }

    /// Errors `accept` survives by pausing: the process or system is out of descriptors
    /// or memory, which connections closing will free.
    static func ridesOut(_ code: Errno) -> Bool {
        code == .tooManyOpenFiles || code == .tooManyOpenFilesInSystem || code == .noBufferSpace
            || code == .noMemory
    }
}
