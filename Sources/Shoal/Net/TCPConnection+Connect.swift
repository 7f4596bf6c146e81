import ShoalKernel

extension TCPConnection {
    /// Connects to `address` on `reactor`.
    ///
    /// The socket is non-blocking from the start: the connection is started, and the
    /// task waits for the socket to become writable (the handshake done or failed) as a
    /// readiness wait of the reactor, bounded by `timeout`.
    ///
    /// - Throws: `SystemCallError` naming `connect` and the address (`ECONNREFUSED`:
    ///   "nothing listens at this address", `ENETUNREACH`, `ETIMEDOUT`, ...);
    ///   ``TimeoutError`` naming the address when `timeout` passes first;
    ///   `CancellationError`; ``ReactorError/stopped(_:)``. The socket is closed when it throws.
    public static func connect(
        to address: SocketAddress, timeout: Duration? = nil, options: TCPOptions = TCPOptions(), on reactor: Reactor
    ) async throws -> TCPConnection {
        if reactor.currentPhase == .stopped { throw ReactorError.stopped("connect to \(address)") }
        guard reactor.isOnReactorThread else {
            let socket = try await reactor.hop { try await connectSocket(to: address, timeout: timeout, options: options, on: $0) }
            return TCPConnection(socket)
        }
        return TCPConnection(try await connectSocket(to: address, timeout: timeout, options: options, on: reactor))
    }

    /// Connects, on the reactor thread.
    private static func connectSocket(
        to address: SocketAddress, timeout: Duration?, options: TCPOptions, on reactor: Reactor
    ) async throws -> TCPSocket {
        try Task.checkCancellation()
        let start = Reactor.now()
        let target = address.description
        let descriptor = try SocketCalls.tcpSocket(family: address.family)
        let connected = try address.withSockaddr {
            try SocketCalls.connect(descriptor.descriptor, $0, length: $1, address: target)
        }
        // Registered only now: epoll reports an unconnected socket as hung up, which
        // would end the wait below before the handshake.
        let socket = try TCPSocket.adopt(descriptor, remote: address, options: options, on: reactor)
        if connected { return socket }
        do {
            let deadline = timeout.map { Reactor.Instant(nanoseconds: start).advanced(by: $0).nanoseconds }
            try await reactor.wait(
                for: .writable, on: socket.registration, deadline: deadline == .max ? nil : deadline,
                timeout: TimeoutError(limit: timeout ?? .zero, operation: "connect to \(target)"))
            if let failure = try SocketCalls.pendingError(socket.descriptor) {
                throw SystemCallError(call: "connect", errno: failure, address: target, detail: SocketCalls.explain(failure))
            }
        } catch {
            socket.close(reset: false)
            throw error
        }
        return socket
    }
}
