import HTTPTypes
import Shoal
import ShoalHTTP
import SystemPackage

/// Sends a file's response: its bytes come through Shoal's file reads on the reactor
/// thread (direct I/O where the file system allows), a few chunks ahead of the socket:
/// memory per connection is bounded by the read-ahead, and a slow client slows the
/// reads (back-pressure).
struct FileSender {
    let reactor: Reactor
    let counters: Counters
    let configuration: ServerConfiguration

    /// Bytes per file read, and reads in flight per response.
    static let chunkSize = 64 * 1024
    static let readAhead = 2

    /// Answers `head` with the file at `path`; whether the connection stays open.
    func send(_ path: String, for head: HTTPRequestHead, on connection: borrowing TCPConnection, peer: String) async throws -> Bool {
        let file = try await File.open(FilePath(path), on: reactor)
        do {
            let status = try file.status()
            let modified = status.st_mtim
            var decision = FileResponse.make(
                for: head.request, size: status.size, modified: (Int(modified.tv_sec), Int(modified.tv_nsec)), path: path)
            if !head.keepAlive { decision.response.headerFields[.connection] = "close" }
            decision.response.headerFields[.date] = HTTPDate.now()
            try await connection.write(decision.response.serializedHead(version: head.version))
            var sent = 0
            if head.request.method == .get && !decision.body.isEmpty {
                let reader = FileReader(
                    file, from: decision.body.lowerBound, to: decision.body.upperBound, chunkSize: Self.chunkSize,
                    readAhead: Self.readAhead)
                do {
                    while let chunk = try await reader.next() {
                        try await connection.write(chunk)
                        sent += chunk.count
                        reader.recycle(chunk)
                    }
                    await reader.close()
                } catch {
                    await reader.close()
                    throw error
                }
                // The file shrank while it was sent: the promised length cannot be kept.
                if sent < decision.body.count {
                    try await file.close()
                    return false
                }
            }
            try await file.close()
            counters.bytes += sent
            counters.log(configuration.accessLog, peer: peer, head: head, status: decision.response.status.code, bytes: sent)
            return head.keepAlive
        } catch {
            try? await file.close()
            throw error
        }
    }
}
