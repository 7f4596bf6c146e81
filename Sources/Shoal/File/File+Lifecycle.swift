import CShoal
import ShoalKernel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension File {
    /// Closes the file, after waiting for its requests in flight (the kernel may still
    /// read or write their buffers). Later calls throw; closing again does nothing.
    ///
    /// The `close(2)` runs on the blocking-call thread (it can block on network file
    /// systems, where it reports late write errors).
    ///
    /// - Throws: `SystemCallError` (`close`, for example `EIO` from a network file
    ///   system); ``ReactorError/stopped(_:)``.
    public nonisolated(nonsending) func close() async throws {
        let first = usage.withLock { usage -> Bool in
            if usage.closed { return false }
            usage.closed = true
            return true
        }
        guard first else { return }
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let idle = usage.withLock { usage -> Bool in
                if usage.inFlight == 0 { return true }
                usage.closer = continuation
                return false
            }
            if idle { continuation.resume() }
        }
        let fd = descriptor
        let path = path
        let close = { @Sendable () throws -> Void in
            // EINTR from close(2) on Linux still frees the descriptor: never retry.
            if Glibc.close(fd.rawValue) != 0 && Errno.current != .interrupted {
                throw SystemCallError(call: "close", errno: .current, path: path)
            }
        }
        // The descriptor is closed whatever happens: here, if the blocking-call thread
        // cannot take the call (the task is cancelled, the reactor stopped).
        do {
            try await reactor.performBlocking { try close() }
        } catch is CancellationError {
            try close()
        } catch is ReactorError {
            try close()
        }
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { usage.withLock { $0.closed } }

    /// The file's status (`fstat`): size, type, permissions, times.
    public func status() throws -> Stat {
        try checkOpen("fstat")
        do {
            return try descriptor.stat()
        } catch {
            throw SystemCallError(call: "fstat", errno: error, path: path)
        }
    }

    /// The file's size in bytes (`fstat`); for a block device, the device's size
    /// (`ioctl(BLKGETSIZE64)`: `fstat` says 0 there).
    public func size() throws -> Int64 {
        let status = try status()
        guard status.type == .blockSpecial else { return status.size }
        var bytes: UInt64 = 0
        guard shoal_block_device_size(descriptor.rawValue, &bytes) == 0 else {
            throw SystemCallError(call: "ioctl", errno: .current, path: path, detail: "BLKGETSIZE64")
        }
        return Int64(clamping: bytes)
    }

    /// Sets the file's size (`ftruncate`, on the blocking-call thread: freeing blocks
    /// can take a while).
    public nonisolated(nonsending) func truncate(to size: Int64) async throws {
        try checkOpen("ftruncate")
        let fd = descriptor
        let path = path
        try await tracked {
            try await reactor.performBlocking {
                while ftruncate(fd.rawValue, off_t(size)) != 0 {
                    if Errno.current != .interrupted {
                        throw SystemCallError(call: "ftruncate", errno: .current, path: path, detail: "to \(size) bytes")
                    }
                }
            }
        }
    }

    /// Reserves disk space for `length` bytes at `offset` (`fallocate` mode 0, on the
    /// blocking-call thread): writes there cannot fail for lack of space later. Grows
    /// the file if the range ends past it.
    public nonisolated(nonsending) func allocate(offset: Int64, length: Int64) async throws {
        try checkOpen("fallocate")
        let fd = descriptor
        let path = path
        try await tracked {
            try await reactor.performBlocking {
                while shoal_fallocate(fd.rawValue, 0, offset, length) != 0 {
                    if Errno.current != .interrupted {
                        throw SystemCallError(
                            call: "fallocate", errno: .current, path: path, detail: "\(length) bytes at offset \(offset)")
                    }
                }
            }
        }
    }

    /// Throws if the file was closed or its reactor stopped.
    func checkOpen(_ call: String) throws {
        if usage.withLock({ $0.closed }) {
            throw SystemCallError(call: call, errno: .badFileDescriptor, path: path, detail: "the file was closed")
        }
        if reactor.currentPhase == .stopped { throw ReactorError.stopped("\(call) \(path)") }
    }

    /// Counts a request in flight, so ``close()`` waits for it; throws if the file was
    /// closed. Every successful call is matched by one ``endRequest()``.
    func beginRequest() throws {
        let open = usage.withLock { usage -> Bool in
            if usage.closed { return false }
            usage.inFlight += 1
            return true
        }
        guard open else {
            throw SystemCallError(call: "I/O", errno: .badFileDescriptor, path: path, detail: "the file was closed")
        }
    }

    /// A request counted by ``beginRequest()`` is over (the kernel is done with it).
    @Sendable
    func endRequest() {
        let closer = usage.withLock { usage -> UnsafeContinuation<Void, Never>? in
            usage.inFlight -= 1
            guard usage.inFlight == 0, let closer = usage.closer else { return nil }
            usage.closer = nil
            return closer
        }
        closer?.resume()
    }

    /// Runs `body`, which ends when the kernel is done with what it started (a blocking
    /// call, or a request the task waited for), counted as a request in flight.
    nonisolated(nonsending) func tracked<T>(_ body: nonisolated(nonsending) () async throws -> T) async throws -> T {
        try beginRequest()
        defer { endRequest() }
        return try await body()
    }
}
