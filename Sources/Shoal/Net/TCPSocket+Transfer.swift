import ShoalKernel

extension TCPSocket {
    /// Receives up to `count` bytes at `base`: the number received, 0 at the end of the
    /// stream. Tries `recv` first and waits for readiness only when it would block.
    /// Reactor thread only; `base` stays valid until this returns.
    nonisolated(nonsending) func receive(into base: UnsafeMutableRawPointer, count: Int) async throws -> Int {
        if readEnded { return 0 }
        let start = timeouts.read == nil ? 0 : Reactor.now()
        while true {
            if closed { throw ReactorError.closed("read from \(peer)") }
            if mayRead {
                if let received = try SocketCalls.receive(descriptor, into: base, count: count, address: peer) {
                    // A short read drains the socket, unless the peer hung up: then the
                    // end of the stream (or an error) may wait behind the bytes, with no
                    // edge to come for it.
                    if received < count && !reactor.peerHungUp(registration) { mayRead = false }
                    if received == 0 {
                        readEnded = true
                    } else if timeouts.idle != nil {
                        lastActivity = Reactor.now()
                    }
                    return received
                }
                mayRead = false
            }
            let (deadline, limit) = readDeadline(start: start)
            try await reactor.wait(
                for: .readable, on: registration, deadline: deadline,
                timeout: TimeoutError(limit: limit, operation: "read from \(self.peer)"))
            mayRead = true
        }
    }

    /// Sends all `count` bytes at `base`, waiting for room in the socket's buffer as
    /// often as it takes. Reactor thread only; `base` stays valid until this returns.
    nonisolated(nonsending) func send(from base: UnsafeRawPointer, count: Int) async throws {
        var offset = 0
        while offset < count {
            if closed { throw ReactorError.closed("write to \(peer)") }
            if writeFinished {
                throw ReactorError.invalidArgument("write to \(peer) after finishWriting()")
            }
            if mayWrite {
                if let sent = try SocketCalls.send(descriptor, from: base + offset, count: count - offset, address: peer) {
                    offset += sent
                    if sent > 0 && timeouts.idle != nil { lastActivity = Reactor.now() }
                    if offset < count { mayWrite = false }
                    continue
                }
                mayWrite = false
            }
            let (deadline, limit) = writeDeadline()
            try await reactor.wait(
                for: .writable, on: registration, deadline: deadline,
                timeout: TimeoutError(limit: limit, operation: "write to \(self.peer)"))
            mayWrite = true
        }
    }

    /// Sends what the socket takes now, without waiting: the number of bytes sent.
    /// Reactor thread only.
    func sendNow(from base: UnsafeRawPointer, count: Int) throws -> Int {
        if closed { throw ReactorError.closed("write to \(peer)") }
        if writeFinished { throw ReactorError.invalidArgument("write to \(peer) after finishWriting()") }
        guard mayWrite, count > 0 else { return 0 }
        guard let sent = try SocketCalls.send(descriptor, from: base, count: count, address: peer) else {
            mayWrite = false
            return 0
        }
        if sent < count { mayWrite = false }
        if sent > 0 && timeouts.idle != nil { lastActivity = Reactor.now() }
        return sent
    }

    /// The deadline of a read that began at `start`: the earlier of the read and idle
    /// limits, with the limit that sets it; `nil` without limits.
    private func readDeadline(start: UInt64) -> (UInt64?, Duration) {
        earliest(timeouts.read.map { (start, $0) }, timeouts.idle.map { (lastActivity, $0) })
    }

    /// The deadline of a write's wait: the write limit counts from now (the last
    /// progress), the idle limit from the last byte moved.
    private func writeDeadline() -> (UInt64?, Duration) {
        earliest(timeouts.write.map { (Reactor.now(), $0) }, timeouts.idle.map { (lastActivity, $0) })
    }

    private func earliest(_ first: (UInt64, Duration)?, _ second: (UInt64, Duration)?) -> (UInt64?, Duration) {
        let candidates = [first, second].compactMap { $0 }.map {
            (Reactor.Instant(nanoseconds: $0.0).advanced(by: $0.1).nanoseconds, $0.1)
        }
        guard let best = candidates.min(by: { $0.0 < $1.0 }), best.0 != .max else { return (nil, .zero) }
        return best
    }
}
