public import SystemPackage

/// A TCP connection on a reactor: non-copyable, it owns its socket and the socket's
/// readiness registration, and closes both when it goes away.
///
/// Get one from ``connect(to:timeout:options:on:)``, ``TCPListener/accept()`` or
/// ``TCPListener/serve(maxConnections:gracePeriod:_:)``. Reads and writes try the
/// socket first and wait for readiness only when it would block; the wait is a
/// readiness event from the reactor's epoll, collected in the same step as disk
/// completions. Methods may be called from any task; they run on the reactor thread.
///
/// One reader and one writer at a time: a task may read while another writes (both
/// capture the connection), which is how a protocol that talks both ways at once avoids
/// waiting on itself. A second read while one waits throws
/// ``ReactorError/alreadyWaiting(descriptor:interest:)``; so does a second write.
///
/// ```swift
/// var buffer = IOBuffer(capacity: 16 * 1024)
/// while try await connection.read(into: &buffer) > 0 {
///     try await connection.write(buffer)
///     buffer.count = 0
/// }
/// ```
///
/// Errors name the peer: `recv 10.0.0.7:55012: Connection reset by peer (errno 104);
/// the peer reset the connection`. A write to a peer that has gone throws `EPIPE` (never
/// `SIGPIPE`). Cancelling the task ends a waiting read or write with `CancellationError`.
public struct TCPConnection: ~Copyable, Sendable {
    let socket: TCPSocket

    init(_ socket: TCPSocket) {
        self.socket = socket
    }

    deinit {
        socket.close(reset: false)
    }

    /// The reactor the connection runs on.
    public var reactor: Reactor { socket.reactor }

    /// The socket's descriptor, for options Shoal does not set; do not close it.
    public var descriptor: FileDescriptor { socket.descriptor }

    /// The peer's address.
    public var remoteAddress: SocketAddress { socket.remote }

    /// The local address (`getsockname`).
    ///
    /// - Throws: `SystemCallError` (`getsockname`).
    public func localAddress() throws -> SocketAddress {
        try socket.localAddress()
    }

    /// The read, write and idle limits; set them at any time (on the reactor thread),
    /// they apply from the next wait.
    public var timeouts: TCPTimeouts {
        get { socket.timeouts }
        nonmutating set {
            if newValue.idle != nil && socket.timeouts.idle == nil { socket.lastActivity = Reactor.now() }
            socket.timeouts = newValue
        }
    }

    /// Reads what has arrived into the free space of `buffer` (after its ``IOBuffer/count``
    /// valid bytes), and adds the bytes read to its count. Waits until at least one byte
    /// is there.
    ///
    /// - Returns: the number of bytes read; 0 at the end of the stream (the peer finished
    ///   writing), and on every read after that.
    /// - Throws: ``ReactorError/invalidArgument(_:)`` when `buffer` has no free space;
    ///   `SystemCallError` (`recv`, naming the peer: `ECONNRESET`, ...);
    ///   ``TimeoutError`` past the read or idle limit; `CancellationError`;
    ///   ``ReactorError/stopped(_:)`` (also when called after the reactor stopped);
    ///   ``ReactorError/alreadyWaiting(descriptor:interest:)`` while another task waits to
    ///   read this connection. Nothing is added to `buffer` when it throws.
    public nonisolated(nonsending) func read(into buffer: inout IOBuffer) async throws -> Int {
        let free = buffer.capacity - buffer.count
        guard free > 0 else {
            throw ReactorError.invalidArgument(
                "read from \(socket.peer) into a full buffer (count \(buffer.count) = capacity): "
                    + "make room by setting count, or use a larger buffer")
        }
        let base = buffer.memory.base + buffer.count
        let received: Int
        if socket.reactor.isOnReactorThread {
            received = try await socket.receive(into: base, count: free)
        } else {
            let socket = self.socket
            try socket.refuseAfterStop("read from")
            let target = UncheckedBox(base)
            received = try await socket.reactor.hop { _ in try await socket.receive(into: target.value, count: free) }
        }
        buffer.count += received
        return received
    }

    /// Writes the ``IOBuffer/count`` valid bytes of `buffer`, all of them, waiting for
    /// the peer to make room as often as it takes (a peer that does not read makes this
    /// wait: memory stays bounded by the socket's buffer).
    ///
    /// - Throws: `SystemCallError` (`send`, naming the peer: `EPIPE` when the peer has
    ///   gone, `ECONNRESET`); ``TimeoutError`` past the write or idle limit;
    ///   ``ReactorError/invalidArgument(_:)`` after ``finishWriting()``;
    ///   `CancellationError`; ``ReactorError/stopped(_:)`` (also when called after the
    ///   reactor stopped); ``ReactorError/alreadyWaiting(descriptor:interest:)`` while
    ///   another task waits to write to this connection. When it throws, part of the
    ///   bytes may have been sent: the stream is no longer in a known state.
    public nonisolated(nonsending) func write(_ buffer: borrowing IOBuffer) async throws {
        try await send(UnsafeRawPointer(buffer.memory.base), count: buffer.count)
    }

    /// Writes `bytes`, all of them (see ``write(_:)-(IOBuffer)``). Bytes in contiguous
    /// storage (an array, a string's `utf8`) go to the socket without a copy when it has
    /// room for them at once.
    public nonisolated(nonsending) func write<Bytes: Collection<UInt8> & Sendable>(_ bytes: Bytes) async throws {
        let total = bytes.count
        if total == 0 { return }
        if socket.reactor.isOnReactorThread {
            let socket = self.socket
            let sent = try bytes.withContiguousStorageIfAvailable { storage -> Int in
                try socket.sendNow(from: UnsafeRawPointer(storage.baseAddress!), count: storage.count)
            }
            if sent == total { return }
            if let sent {
                let rest = IOBuffer(bytes: bytes.dropFirst(sent), alignment: 16)
                return try await write(rest)
            }
        }
        try await write(IOBuffer(bytes: bytes, alignment: 16))
    }

    private nonisolated(nonsending) func send(_ base: UnsafeRawPointer, count: Int) async throws {
        if count == 0 { return }
        if socket.reactor.isOnReactorThread { return try await socket.send(from: base, count: count) }
        let socket = self.socket
        try socket.refuseAfterStop("write to")
        let source = UncheckedBox(base)
        try await socket.reactor.hop { _ in try await socket.send(from: source.value, count: count) }
    }

    /// Finishes writing (half-close, `shutdown(SHUT_WR)`): the peer reads the end of the
    /// stream once it has read everything written before; this side goes on reading.
    /// A second call does nothing.
    ///
    /// - Throws: `SystemCallError` (`shutdown`, `ENOTCONN` when the peer has gone).
    public func finishWriting() async throws {
        if socket.reactor.isOnReactorThread { return try socket.finishWriting() }
        let socket = self.socket
        try socket.refuseAfterStop("finishWriting on")
        try await socket.reactor.hop { _ in try socket.finishWriting() }
    }

    /// Closes the connection: the peer reads the end of the stream after the data
    /// already written (the kernel goes on sending it). Dropping the connection does
    /// the same.
    public consuming func close() {
        socket.close(reset: false)
    }

    /// Resets the connection (`SO_LINGER` 0, then close): the peer's next read or write
    /// fails with `ECONNRESET`, and data not yet sent is dropped.
    public consuming func abort() {
        socket.close(reset: true)
    }
}
