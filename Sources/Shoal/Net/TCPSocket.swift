import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

/// A connected TCP socket on a reactor: its descriptor, its readiness registration,
/// and what the reactor knows about it. The state behind ``TCPConnection``.
///
/// Used on the reactor thread only (``TCPConnection`` hops there); closed exactly once.
final class TCPSocket: @unchecked Sendable {
    let reactor: Reactor
    let descriptor: FileDescriptor
    let registration: IORegistration
    /// The peer, for errors and ``TCPConnection/remoteAddress``.
    let remote: SocketAddress
    /// The peer as text, made once: every error names it.
    let peer: String
    var timeouts: TCPTimeouts

    /// The last read returned all it was asked for, or readiness arrived since: the next
    /// read tries `recv` first. After a short read the socket is most likely empty, so
    /// the next read waits for readiness first and saves an `recv` that would fail with
    /// `EAGAIN` (edge-triggered epoll reports every arrival after that read).
    var mayRead = true
    /// The same for `send`: a partial send means the buffer is full.
    var mayWrite = true
    /// `recv` returned 0: every later read returns 0 without a system call.
    var readEnded = false
    /// ``TCPConnection/finishWriting()`` was called.
    var writeFinished = false
    var closed = false
    /// When a byte last moved (monotonic ns); kept only while an idle limit is set.
    var lastActivity: UInt64

    init(reactor: Reactor, descriptor: FileDescriptor, registration: IORegistration, remote: SocketAddress, timeouts: TCPTimeouts) {
        self.reactor = reactor
        self.descriptor = descriptor
        self.registration = registration
        self.remote = remote
        self.peer = remote.description
        self.timeouts = timeouts
        self.lastActivity = timeouts.idle == nil ? 0 : Reactor.now()
    }

    /// Throws ``ReactorError/stopped(_:)`` once the reactor has stopped: a call from
    /// another thread must not hop to it then (the hop would never reach it).
    func refuseAfterStop(_ operation: String) throws {
        if reactor.currentPhase == .stopped { throw ReactorError.stopped("\(operation) \(peer)") }
    }

    /// Sets up a connected, non-blocking socket for the reactor: `TCP_NODELAY` as asked,
    /// then a readiness registration. Reactor thread only. Takes `descriptor` in all
    /// cases: closes it when this throws.
    static func adopt(
        _ descriptor: consuming OwnedDescriptor, remote: SocketAddress, options: TCPOptions, on reactor: Reactor
    ) throws -> TCPSocket {
        if options.noDelay {
            try SocketCalls.setOption(
                descriptor.descriptor, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1, label: "TCP_NODELAY")
        }
        let registration = try reactor.register(descriptor.descriptor)
        return TCPSocket(
            reactor: reactor, descriptor: descriptor.release(), registration: registration, remote: remote,
            timeouts: options.timeouts)
    }

    /// The local address (`getsockname`).
    func localAddress() throws -> SocketAddress {
        var storage = sockaddr_storage()
        try SocketCalls.address(of: descriptor, remote: false, into: &storage)
        return try withUnsafePointer(to: &storage) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard let address = SocketAddress($0) else {
                    throw ReactorError.invalidArgument("descriptor \(descriptor.rawValue) is not an IP socket")
                }
                return address
            }
        }
    }

    /// Half-closes: the peer reads the end of the stream; reading goes on.
    func finishWriting() throws {
        if closed || writeFinished { return }
        writeFinished = true
        try SocketCalls.shutdownWriting(descriptor, address: peer)
    }

    /// Closes the socket: deregisters it (a task waiting on it resumes with an error)
    /// and closes the descriptor; with `reset`, the peer gets an RST instead of a FIN
    /// and unsent data is dropped. Safe from any thread: off the reactor thread the work
    /// is posted to it (and done here if the reactor has stopped).
    func close(reset: Bool) {
        guard reactor.isOnReactorThread else {
            if !reactor.execute({ self.close(reset: reset) }) { closeOnce(reset: reset) }
            return
        }
        closeOnce(reset: reset)
    }

    private func closeOnce(reset: Bool) {
        if closed { return }
        closed = true
        if reset {
            let descriptor = self.descriptor
            reactor.closeRegistered(registration, before: { try? SocketCalls.setResetOnClose(descriptor) })
        } else {
            reactor.closeRegistered(registration)
        }
    }
}
