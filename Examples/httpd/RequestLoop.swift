import HTTPTypes
import Shoal
import ShoalHTTP

/// One connection's requests, one after the other (pipelined requests are read from
/// what has arrived), until the client closes, asks to close, or breaks a rule.
struct RequestLoop {
    let configuration: ServerConfiguration
    let counters: Counters
    let reactor: Reactor

    /// The largest request head accepted (431 past it), and the read buffer's size.
    static let headLimit = 16 * 1024

    func run(_ connection: borrowing TCPConnection) async throws {
        var buffer = IOBuffer(capacity: Self.headLimit, alignment: 64)
        var parser = HTTPRequestParser(maximumHeadSize: Self.headLimit)
        let peer = connection.remoteAddress.description
        while true {
            guard let (head, used) = try await readHead(connection, into: &buffer, parser: &parser) else { return }
            buffer.removeFirst(used)
            // A GET's body means nothing here: skip it (up to 1 MiB), then answer.
            if head.contentLength > 0 {
                guard head.contentLength <= 1 << 20, try await skip(head.contentLength, of: connection, buffer: &buffer) else {
                    try await sendError(.contentTooLarge, "a request body over 1 MiB", on: connection, head: head, peer: peer)
                    return
                }
            }
            let keepAlive = try await respond(to: head, on: connection, peer: peer)
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
                return nil
            }
            if buffer.count == buffer.capacity {
                try await sendError(.requestHeaderFieldsTooLarge, "the request head is too large", on: connection, head: nil, peer: "")
                return nil
            }
            // Waiting for a request: the idle limit. Once it has begun: the head's deadline.
            if !buffer.isEmpty && headDeadline == nil { headDeadline = .now + configuration.headerTimeout }
            let limit = headDeadline.map { max($0 - .now, .nanoseconds(1)) } ?? configuration.idleTimeout
            connection.timeouts = TCPTimeouts(read: limit, write: configuration.writeTimeout)
            do {
                if try await connection.read(into: &buffer) == 0 { return nil }
            } catch is TimeoutError {
                counters.timeouts += 1
                if !buffer.isEmpty {
                    try? await sendError(.requestTimeout, "the request head did not arrive in time", on: connection, head: nil, peer: "")
                }
                return nil
            }
        }
    }

    /// Reads and drops `count` body bytes; `false` if the client closed first.
    private func skip(_ count: Int, of connection: borrowing TCPConnection, buffer: inout IOBuffer) async throws -> Bool {
        var left = count
        while true {
            let take = min(left, buffer.count)
            buffer.removeFirst(take)
            left -= take
            if left == 0 { return true }
            if try await connection.read(into: &buffer) == 0 { return false }
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
        switch try await FileTarget.resolve(path, root: configuration.root, on: reactor) {
        case .malformed:
            try await sendError(.badRequest, "the path is not valid", on: connection, head: head, peer: peer)
            return false
        case .notFound:
            try await sendError(.notFound, "nothing at \(path)", on: connection, head: head, peer: peer)
            return head.keepAlive
        case .file(let real):
            return try await FileSender(reactor: reactor, counters: counters, configuration: configuration)
                .send(real, for: head, on: connection, peer: peer)
        }
    }

    /// A short text response; the connection closes after it unless `head` allows
    /// keeping it open and the status does not end the framing.
    func sendError(
        _ status: HTTPResponse.Status, _ reason: String, on connection: borrowing TCPConnection, head: HTTPRequestHead?, peer: String
    ) async throws {
        let body = Array("\(status.code) \(status.reasonPhrase): \(reason)\n".utf8)
        var response = HTTPResponse(status: status)
        response.headerFields[.date] = HTTPDate.now()
        response.headerFields[.contentType] = "text/plain; charset=utf-8"
        response.headerFields[.contentLength] = String(body.count)
        if status == .methodNotAllowed { response.headerFields[.allow] = "GET, HEAD" }
        let keep = head?.keepAlive ?? false
        if !keep || status.code == 400 { response.headerFields[.connection] = "close" }
        let sendsBody = head?.request.method != .head
        try await connection.write(response.serializedHead(version: head?.version ?? .http1_1) + (sendsBody ? body : []))
        counters.log(configuration.accessLog, peer: peer, head: head, status: status.code, bytes: sendsBody ? body.count : 0)
    }
}
