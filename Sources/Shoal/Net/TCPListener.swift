import Logging
import ShoalKernel
public import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket on a reactor.
///
/// ```swift
/// let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:0"), on: reactor)
/// print("listening on \(listener.localAddress)")
/// try await listener.serve(maxConnections: 1_000) { connection in
///     // one task per connection, on the reactor thread
/// }
/// ```
///
/// ``accept()`` takes one connection; ``serve(maxConnections:gracePeriod:_:)`` runs a
/// task per connection until the listener is closed or its task is cancelled. When the
/// process runs out of descriptors (`EMFILE`, `ENFILE`), accepting backs off briefly and
/// tries again, counting it in ``acceptBackoffs`` and logging it at most every ten
/// seconds: connections already open keep being served. Methods may be called from any
/// task; they run on the reactor thread.
public final class TCPListener: @unchecked Sendable {
    /// The reactor the listener and its connections run on.
    public let reactor: Reactor
    /// The address it listens on; with port 0 asked, the port the kernel chose.
    public let localAddress: SocketAddress
    /// The listening descriptor; do not close it: ``close()`` does.
    public let descriptor: FileDescriptor
    /// What accepted connections are set up with.
    public let options: TCPOptions

    let registration: IORegistration
    let name: String
    /// Try `accept` before waiting: the last one found a connection, or readiness came.
    var mayAccept = true
    var closed = false
    /// ``serve(maxConnections:gracePeriod:_:)`` runs: it is the only one to accept.
    var serving = false
    /// Run by ``close()``: wakes ``serve(maxConnections:gracePeriod:_:)`` when it waits
    /// for a connection to finish.
    var onClose: (() -> Void)?
    private(set) var backoffs = 0
    var lastBackoffLog: UInt64 = 0
    var backoffsSinceLog = 0

    init(reactor: Reactor, descriptor: FileDescriptor, registration: IORegistration, address: SocketAddress, options: TCPOptions) {
        self.reactor = reactor
        self.descriptor = descriptor
        self.registration = registration
        self.localAddress = address
        self.name = address.description
        self.options = options
    }

    deinit {
        // Dropped without close(): give back the registration too.
        if !closed { reactor.closeRegistered(registration) }
    }

    /// Binds to `address` and listens.
    ///
    /// - Parameters:
    ///   - address: an IPv4 or IPv6 address; `0.0.0.0` or `[::]` for every interface;
    ///     port 0 for any free port (read it back from ``localAddress``).
    ///   - backlog: connections the kernel completes before they are accepted (capped by
    ///     `net.core.somaxconn`).
    ///   - reusePort: `SO_REUSEPORT`, so that several listeners (one per reactor, say)
    ///     share the port and the kernel spreads connections between them.
    ///   - options: what accepted connections are set up with (`TCP_NODELAY`, time limits).
    ///   - reactor: the reactor that accepts and serves the connections.
    /// - Throws: `SystemCallError` naming the call and the address (`bind`:
    ///   `EADDRINUSE`, "another socket is bound to this address"; `EACCES` below port
    ///   1024; `EADDRNOTAVAIL`); ``ReactorError/invalidArgument(_:)`` for a backlog
    ///   out of `1...65535`; ``ReactorError/stopped(_:)``.
    public static func bind(
        _ address: SocketAddress, backlog: Int = 1_024, reusePort: Bool = false, options: TCPOptions = TCPOptions(),
        on reactor: Reactor
    ) async throws -> TCPListener {
        guard (1...65_535).contains(backlog) else {
            throw ReactorError.invalidArgument("listen on \(address) with backlog \(backlog): it must be 1...65535")
        }
        if reactor.currentPhase == .stopped { throw ReactorError.stopped("listen on \(address)") }
        guard reactor.isOnReactorThread else {
            return try await reactor.hop { try listen(address, backlog: backlog, reusePort: reusePort, options: options, on: $0) }
        }
        return try listen(address, backlog: backlog, reusePort: reusePort, options: options, on: reactor)
    }

    private static func listen(
        _ address: SocketAddress, backlog: Int, reusePort: Bool, options: TCPOptions, on reactor: Reactor
    ) throws -> TCPListener {
        let name = address.description
        let descriptor = try SocketCalls.tcpSocket(family: address.family)
        let fd = descriptor.descriptor
        try SocketCalls.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1, label: "SO_REUSEADDR")
        if reusePort {
            try SocketCalls.setOption(fd, level: SOL_SOCKET, name: SO_REUSEPORT, value: 1, label: "SO_REUSEPORT")
        }
        try address.withSockaddr { try SocketCalls.bind(fd, $0, length: $1, address: name) }
        try SocketCalls.listen(fd, backlog: Int32(backlog), address: name)
        var storage = sockaddr_storage()
        try SocketCalls.address(of: fd, remote: false, into: &storage)
        let bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) } }
        let registration = try reactor.register(fd)
        return TCPListener(
            reactor: reactor, descriptor: descriptor.release(), registration: registration,
            address: bound ?? address, options: options)
    }

    /// Times accepting backed off because the process or system ran out of descriptors.
    public var acceptBackoffs: Int { backoffs }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { closed }

    /// Stops listening: new connections are refused, a task waiting in ``accept()``
    /// throws ``ReactorError/closed(_:)``, and ``serve(maxConnections:gracePeriod:_:)``
    /// winds down (its connections get their grace period). Connections already
    /// accepted are not touched. A second call does nothing. Safe from any thread.
    public func close() {
        guard reactor.isOnReactorThread else {
            if !reactor.execute({ self.close() }) { closeOnce() }
            return
        }
        closeOnce()
    }

    private func closeOnce() {
        if closed { return }
        closed = true
        reactor.closeRegistered(registration)
        onClose?()
    }

    /// Counts a backoff and logs it, at most once every ten seconds.
    func noteBackoff(_ error: SystemCallError) {
        backoffs += 1
        backoffsSinceLog += 1
        let now = Reactor.now()
        if lastBackoffLog == 0 || now &- lastBackoffLog >= 10_000_000_000 {
            reactor.logger.warning(
                "accept is out of descriptors; backing off (connections already open are served)",
                metadata: ["listener": "\(name)", "error": "\(error)", "times": "\(backoffsSinceLog)"])
            lastBackoffLog = now
            backoffsSinceLog = 0
        }
    }
}
