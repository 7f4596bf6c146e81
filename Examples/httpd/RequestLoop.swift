import HTTPTypes
import Shoal
import ShoalHTTP

/// One connection's requests, one after the other (pipelined requests are read from
/// what has arrived), until the client closes, asks to close, or breaks a rule.
struct RequestLoop {
    let configuration: ServerConfiguration
    let counters: Counters
    let reactor: Reactor
    let cache: FileCache
    let paths: PathCache
    let metrics: ServerMetrics

    /// The largest request head accepted (431 past it), and the read buffer's size.
    static let headLimit = 16 * 1024

    func run(_ connection: borrowing TCPConnection) async throws {
        var buffer = IOBuffer(capacity: Self.headLimit, alignment: 64)
        var parser = HTTPRequestParser(maximumHeadSize: Self.headLimit)
        let peer = connection.remoteAddress.description
        while true {
            guard let (parsed, used) = try await readHead(connection, into: &buffer, parser: &parser) else { return }
            buffer.removeFirst(used)
            // A request body means nothing here: answer at once (so Expect: 100-continue
            // waits for nothing) and close rather than read the body.
            var head = parsed
            if head.contentLength > 0 || counters.draining { head.keepAlive = false }
            let keepAlive = try await respond(to: head, on: connection, peer: peer)
            if head.contentLength > 0 { try await lingeringClose(connection, buffer: &buffer) }
            if !keepAlive { return }
        }
    }

    /// Reads until a whole head is in `buffer`, within the limits and timeouts; `nil`
    /// when the client closed between requests (or the connection must end: an error
    /// response was sent).
    private func readHead(
        _ connection: borrowing TCPConnection, into buffer: inout IOBuffer, parser: inout HTTPRequestParser
    ) async throws -> (HTTPRequestHead, Int)? {
        var headDeadline: ContinuousClock.Instant?
        while true {
            do {
                if let parsed = try buffer.withUnsafeBytes({ (bytes) throws(HTTPParseError) in try parser.parse(bytes) }) {
                    return parsed
                }
            } catch {
                counters.malformed += 1
                try await sendError(error.status, error.reason, on: connection, head: nil, peer: connection.remoteAddress.description)
                try await lingeringClose(connection, buffer: &buffer)
                return nil
            }
            if buffer.count == buffer.capacity {
                counters.malformed += 1
                try await sendError(
                    .requestHeaderFieldsTooLarge, "the request head is too large", on: connection, head: nil,
                    peer: connection.remoteAddress.description)
                try await lingeringClose(connection, buffer: &buffer)
                return nil
            }
            // Waiting for a request: the idle limit. Once it has begun: the head's deadline.
            if !buffer.isEmpty && headDeadline == nil { headDeadline = .now + configuration.headerTimeout }
            let limit = headDeadline.map { max($0 - .now, .nanoseconds(1)) } ?? configuration.idleTimeout
            connection.timeouts = TCPTimeouts(read: limit, write: configuration.writeTimeout)
            // Between requests, a signal ends the wait at once (see Counters.draining).
            let idle = buffer.isEmpty ? counters.beginIdle() : nil
            defer { if let idle { counters.endIdle(idle) } }
            if idle != nil && counters.draining { return nil }
            do {
                if try await connection.read(into: &buffer) == 0 { return nil }
            } catch is CancellationError where idle != nil && counters.draining {
                return nil
            } catch is TimeoutError {
                counters.timeouts += 1
                if !buffer.isEmpty {
                    try? await sendError(
                        .requestTimeout, "the request head did not arrive in time", on: connection, head: nil,
                        peer: connection.remoteAddress.description)
                    try? await lingeringClose(connection, buffer: &buffer)
                }
                return nil
            }
        }
    }

    /// Finishes writing, then reads and drops what the client still sends (a body, the
    /// rest of a refused head) for at most a second or 1 MiB: closing with unread bytes
    /// would reset the connection, and the client could lose the response it has not
    /// read yet.
    private func lingeringClose(_ connection: borrowing TCPConnection, buffer: inout IOBuffer) async throws {
        try? await connection.finishWriting()
        let deadline = ContinuousClock.now + .seconds(1)
        var dropped = 0
        while dropped < 1 << 20 && ContinuousClock.now < deadline {
            buffer.count = 0
            connection.timeouts = TCPTimeouts(read: max(deadline - .now, .nanoseconds(1)))
            guard let read = try? await connection.read(into: &buffer), read > 0 else { return }
            dropped += read
        }
    }

    /// Answers one request; whether the connection stays open.
    private func respond(to head: HTTPRequestHead, on connection: borrowing TCPConnection, peer: String) async throws -> Bool {
        counters.requests += 1
        let method = head.request.method
        guard method == .get || method == .head else {
            let known: [HTTPRequest.Method] = [.post, .put, .delete, .patch, .options, .trace, .connect]
            let status: HTTPResponse.Status = known.contains(method) ? .methodNotAllowed : .notImplemented
            try await sendError(status, "\(method) is not served here; GET and HEAD are", on: connection, head: head, peer: peer)
            return head.keepAlive
        }
        let path = head.request.path ?? "/"
        if configuration.metrics, (try? RequestPath.segments(of: path)) == ["metrics"], let text = metrics.exposition() {
            try await sendText(.ok, text, contentType: "text/plain; version=0.0.4; charset=utf-8", on: connection, head: head, peer: peer)
            return head.keepAlive
        }
        switch try await FileTarget.resolve(path, root: configuration.root, on: reactor, cache: paths) {
        case .malformed:
            try await sendError(.badRequest, "the path is not valid", on: connection, head: head, peer: peer)
            return false
        case .notFound:
            try await sendError(.notFound, "nothing at \(path)", on: connection, head: head, peer: peer)
            return head.keepAlive
        case .directory(let location):
            try await sendError(.movedPermanently, "see \(location)", on: connection, head: head, peer: peer, location: location)
            return head.keepAlive
        case .file(let real, let identity, let keep):
            do {
                return try await FileSender(reactor: reactor, counters: counters, configuration: configuration, cache: cache)
                    .send(real, identity: identity, keep: keep, for: head, on: connection, peer: peer)
            } catch let refusal as Refusal {
                var head = head
                head.keepAlive = head.keepAlive && refusal.keepsConnection
                try await sendError(refusal.status, refusal.reason, on: connection, head: head, peer: peer)
                return head.keepAlive
            }
        }
    }

    /// A short text response; the connection closes after it unless `head` allows
    /// keeping it open and the status does not end the framing.
    func sendError(
        _ status: HTTPResponse.Status, _ reason: String, on connection: borrowing TCPConnection, head: HTTPRequestHead?, peer: String,
        location: String? = nil
    ) async throws {
        let body = Array("\(status.code) \(status.reasonPhrase): \(reason)\n".utf8)
        try await sendText(
            status, body, contentType: "text/plain; charset=utf-8", on: connection, head: head, peer: peer, location: location)
    }

    /// A response with `body`, framed by its length.
    private func sendText(
        _ status: HTTPResponse.Status, _ body: [UInt8], contentType: String, on connection: borrowing TCPConnection,
        head: HTTPRequestHead?, peer: String, location: String? = nil
    ) async throws {
        var response = HTTPResponse(status: status)
        response.headerFields[.date] = HTTPDate.now()
        response.headerFields[.contentType] = contentType
        response.headerFields[.contentLength] = String(body.count)
        if status == .methodNotAllowed { response.headerFields[.allow] = "GET, HEAD" }
        if let location { response.headerFields[.location] = location }
        let keep = head?.keepAlive ?? false
        if !keep || status.code == 400 {
            response.headerFields[.connection] = "close"
        } else if head?.version == .http1_0 {
            response.headerFields[.connection] = "keep-alive"
        }
        let sendsBody = head?.request.method != .head
        try await connection.write(response.serializedHead() + (sendsBody ? body : []))
        if sendsBody { counters.bytes += body.count }
        counters.log(configuration.accessLog, peer: peer, head: head, status: status.code, bytes: sendsBody ? body.count : 0)
    }
}
