import Logging

extension TCPListener {
    /// Accepts connections and runs `handler` for each in a task of its own on the
    /// reactor, until the listener is closed (``close()``) or the calling task is
    /// cancelled; then winds down and returns.
    ///
    /// - At most `maxConnections` handlers run at once; while that many do, further
    ///   connections wait in the kernel's backlog (they are not refused).
    /// - A handler owns its connection: returning (or throwing) closes it. A handler's
    ///   error is logged (at debug level) with the peer's address and ends only that
    ///   connection; the server goes on.
    /// - Winding down: the listener is closed (no new connections), the handlers have
    ///   `gracePeriod` to finish, then those left are cancelled (their waiting reads and
    ///   writes throw `CancellationError`), and `serve` returns once every handler has.
    ///
    /// - Throws: ``ReactorError/invalidArgument(_:)`` for `maxConnections` below 1, for a
    ///   second `serve` on the listener, or while a task waits in ``accept()``;
    ///   ``ReactorError/stopped(_:)``; a `SystemCallError` from `accept` that is not
    ///   one it rides out (see ``accept()``), after winding down.
    public func serve(
        maxConnections: Int = 10_000,
        gracePeriod: Duration = .seconds(10),
        _ handler: @escaping @Sendable (consuming TCPConnection) async throws -> Void
    ) async throws {
        guard maxConnections >= 1 else {
            throw ReactorError.invalidArgument("serve on \(name) with maxConnections \(maxConnections): it must be at least 1")
        }
        if reactor.currentPhase == .stopped { throw ReactorError.stopped("serve on \(name)") }
        guard reactor.isOnReactorThread else {
            return try await reactor.hop { _ in
                try await self.serve(maxConnections: maxConnections, gracePeriod: gracePeriod, handler)
            }
        }
        if serving { throw ReactorError.invalidArgument("serve on \(name): it is already serving") }
        serving = true
        let connections = ConnectionTasks(reactor: reactor)
        onClose = { connections.wake() }
        defer {
            onClose = nil
            serving = false
        }
        var failure: (any Error)?
        while !closed && !Task.isCancelled {
            if connections.count >= maxConnections {
                await connections.waitForChange(orCancellationOf: self)
                continue
            }
            do {
                let socket = try await acceptSocket()
                connections.start(socket, listener: name, handler)
            } catch is CancellationError {
                break
            } catch ReactorError.closed {
                break
            } catch ReactorError.alreadyWaiting where connections.count == 0 {
                // A task waits in accept(): refuse to serve, and leave the listener open.
                throw ReactorError.invalidArgument("serve on \(name) while a task waits in accept() on it")
            } catch {
                failure = error
                break
            }
        }
        close()
        await connections.windDown(gracePeriod: gracePeriod)
        if let failure { throw failure }
    }
}

/// The handler tasks of one ``TCPListener/serve(maxConnections:gracePeriod:_:)``, and
/// the one task (`serve` itself) that waits for them to change. Reactor thread only.
final class ConnectionTasks: @unchecked Sendable {
    let reactor: Reactor
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    private var lastID: UInt64 = 0
    private var waiter: UnsafeContinuation<Void, Never>?

    init(reactor: Reactor) {
        self.reactor = reactor
    }

    /// Handlers running.
    var count: Int { tasks.count }

    /// Runs `handler` for the connection on `socket` in a task of its own.
    func start(
        _ socket: TCPSocket, listener: String, _ handler: @escaping @Sendable (consuming TCPConnection) async throws -> Void
    ) {
        lastID += 1
        let id = lastID
        let task = Task(executorPreference: reactor) {
            let peer = socket.peer
            do {
                try await handler(TCPConnection(socket))
            } catch is CancellationError {
            } catch {
                self.reactor.logger.debug(
                    "connection handler threw", metadata: ["listener": "\(listener)", "peer": "\(peer)", "error": "\(error)"])
            }
            self.finished(id)
        }
        // The task's first job runs on this thread after this returns: it is recorded first.
        tasks[id] = task
    }

    private func finished(_ id: UInt64) {
        tasks[id] = nil
        wake()
    }

    /// Resumes the task waiting in ``waitForChange(orCancellationOf:)`` or ``windDown(gracePeriod:)``.
    func wake() {
        let waiting = waiter
        waiter = nil
        waiting?.resume()
    }

    /// Suspends until a handler finishes, the listener closes, or the calling task is
    /// cancelled.
    func waitForChange(orCancellationOf listener: TCPListener) async {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                if Task.isCancelled || listener.isClosed {
                    continuation.resume()
                } else {
                    waiter = continuation
                }
            }
        } onCancel: {
            _ = self.reactor.execute { self.wake() }
        }
    }

    /// Gives the handlers `gracePeriod` to finish, then cancels those left and waits for them.
    func windDown(gracePeriod: Duration) async {
        if tasks.isEmpty { return }
        let timer = reactor.schedule(after: gracePeriod) { [self] in
            for task in tasks.values { task.cancel() }
        }
        while !tasks.isEmpty {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in waiter = continuation }
        }
        reactor.cancel(timer)
    }
}
