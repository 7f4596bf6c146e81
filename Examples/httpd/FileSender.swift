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
        let file: File
        do {
            file = try await File.open(FilePath(path), on: reactor)
        } catch let error as SystemCallError {
            throw Refusal(error)
        }
        // The name was checked on the blocking-call thread, then opened: if a link was
        // swapped in between, the opened file is elsewhere. Check where it really is.
        guard let opened = openedPath(file.descriptor.rawValue), FileTarget.allowed(opened, root: configuration.root) else {
            try? await file.close()
            throw Refusal(status: .notFound, reason: "nothing there")
        }
        do {
            let status = try file.status()
            let modified = status.st_mtim
            var decision = FileResponse.make(
                for: head.request, size: status.size, modified: (Int(modified.tv_sec), Int(modified.tv_nsec)), path: path)
            if !head.keepAlive {
                decision.response.headerFields[.connection] = "close"
            } else if head.version == .http1_0 {
                decision.response.headerFields[.connection] = "keep-alive"
            }
            decision.response.headerFields[.date] = HTTPDate.now()
            try await connection.write(decision.response.serializedHead())
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

/// A file that cannot be sent, before any byte of the response went out: the status
/// to answer with instead.
struct Refusal: Error {
    let status: HTTPResponse.Status
    let reason: String
    /// Whether the connection can go on after it.
    var keepsConnection = true

    init(status: HTTPResponse.Status, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// The answer to a failed `open`: 403 when access is denied, 404 when the file went
    /// away or is not a file any more, 503 (and close) when descriptors or memory ran
    /// out, 500 otherwise.
    init(_ error: SystemCallError) {
        switch error.errno {
        case .permissionDenied, .notPermitted:
            self.init(status: .forbidden, reason: "the file cannot be read")
        case .noSuchFileOrDirectory, .notDirectory, .tooManySymbolicLinkLevels, .noSuchAddressOrDevice, .isDirectory:
            self.init(status: .notFound, reason: "nothing there")
        case .tooManyOpenFiles, .tooManyOpenFilesInSystem, .noMemory:
            self.init(status: .serviceUnavailable, reason: "the server is out of resources; try again")
            keepsConnection = false
        default:
            self.init(status: .internalServerError, reason: "the file could not be opened")
            keepsConnection = false
        }
    }
}
