import HTTPTypes
import Shoal
import ShoalHTTP

#if canImport(Glibc)
import Glibc
#endif

// The steps of docs/guide.md, compiled. `guideServer` is not run by shoal-snippets
// (it serves until a signal).

/// Step 2: read request heads from a connection, pipelined ones included.
func nextRequest(_ connection: borrowing TCPConnection, buffer: inout IOBuffer, parser: inout HTTPRequestParser) async throws
    -> HTTPRequestHead?
{
    while true {
        if let (head, used) = try buffer.withUnsafeBytes({ (bytes) throws(HTTPParseError) in try parser.parse(bytes) }) {
            buffer.removeFirst(used)  // what follows is the next request
            return head
        }
        if buffer.count == buffer.capacity { return nil }  // a head too large: answer 431 and close
        if try await connection.read(into: &buffer) == 0 { return nil }
    }
}

/// Step 3: stream a file's bytes to the socket, a few reads ahead.
func sendFile(_ path: FilePath, withBody: Bool, on connection: borrowing TCPConnection, reactor: Reactor) async throws {
    guard let file = try? await File.open(path, on: reactor) else {  // O_DIRECT where the file system allows
        // Missing, a folder, unreadable: an answer the client can read; the connection goes on.
        var missing = HTTPResponse(status: .notFound)
        missing.headerFields[.contentLength] = "0"
        try await connection.write(missing.serializedHead())
        return
    }
    let size = try file.size()
    var response = HTTPResponse(status: .ok)
    response.headerFields[.contentLength] = String(size)
    response.headerFields[.contentType] = MediaType.forFile(named: path.string)
    try await connection.write(response.serializedHead())
    if withBody {  // HEAD: the same head, no body
        let reader = FileReader(file, chunkSize: 64 * 1024, readAhead: 2)
        while let chunk = try await reader.next() {
            try await connection.write(chunk)  // waits while the client is slow: back-pressure
            reader.recycle(chunk)
        }
        await reader.close()
    }
    try await file.close()
}

/// Steps 1 and 4: a listener, a task per connection, a graceful stop.
func guideServer(root: String) async throws {
    try await Reactor.run { reactor in
        let signals = try reactor.watchSignals([SIGINT, SIGTERM])
        let listener = try await TCPListener.bind(try SocketAddress("127.0.0.1:8080"), on: reactor)
        reactor.spawn {
            _ = try await signals.next()
            signals.close()
            listener.close()
        }
        try await listener.serve(maxConnections: 1_000, gracePeriod: .seconds(5)) { connection in
            var buffer = IOBuffer(capacity: 16 * 1024, alignment: 64)
            var parser = HTTPRequestParser(maximumHeadSize: 16 * 1024)
            while let head = try await nextRequest(connection, buffer: &buffer, parser: &parser) {
                // Other methods, and paths that could leave the root: close (a real server answers 405 or 400).
                guard head.request.method == .get || head.request.method == .head,
                    var segments = try? RequestPath.segments(of: head.request.path ?? "/")
                else { return }
                if segments.isEmpty { segments = ["index.html"] }
                let path = FilePath(([root] + segments).joined(separator: "/"))
                try await sendFile(path, withBody: head.request.method == .get, on: connection, reactor: reactor)
                if !head.keepAlive { return }
            }
        }
    }
}
