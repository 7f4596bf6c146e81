import HTTPTypes
import Shoal
import ShoalHTTP
import SystemPackage

/// Sends a file's response: its bytes come from the block cache, or through Shoal's
/// file reads on the reactor thread (direct I/O where the file system allows), a few
/// blocks ahead of the socket: memory per connection is bounded by the read-ahead, and
/// a slow client slows the reads (back-pressure).
struct FileSender {
    let reactor: Reactor
    let counters: Counters
    let configuration: ServerConfiguration
    let cache: FileCache

    /// Reads in flight per response, and blocks read per run of misses at most.
    static let readAhead = 2
    static let runLimit: Int64 = 16

    /// Answers `head` with the file at `path`; whether the connection stays open. The
    /// open file is kept for later requests when `keep` says a change to it would be seen.
    func send(
        _ path: String, identity: FileIdentity, keep: Bool, for head: HTTPRequestHead, on connection: borrowing TCPConnection,
        peer: String
    ) async throws -> Bool {
        let root = configuration.root
        let reactor = self.reactor
        let lease: FileCache.Lease
        do {
            lease = try await cache.acquire(path, identity: identity, keep: keep) {
                let file = try await File.open(FilePath(path), on: reactor)
                // The name was checked on the blocking-call thread, then opened: if a link was
                // swapped in between, the opened file is elsewhere. Check where it really is.
                guard let opened = openedPath(file.descriptor.rawValue), FileTarget.allowed(opened, root: root) else {
                    try? await file.close()
                    throw Refusal(status: .notFound, reason: "nothing there")
                }
                return file
            }
        } catch let error as SystemCallError {
            throw Refusal(error)
        }
        defer { cache.release(lease) }
        // What the opened file is, not what its name led to a moment ago.
        let identity = lease.identity
        var decision = FileResponse.make(for: head.request, lease.representation)
        if !head.keepAlive {
            decision.response.headerFields[.connection] = "close"
        } else if head.version == .http1_0 {
            decision.response.headerFields[.connection] = "keep-alive"
        }
        decision.response.headerFields[.date] = HTTPDate.now()
        // Counted and logged however the response ends (a reset, the grace period).
        var sent = 0
        defer {
            counters.bytes += sent
            counters.log(configuration.accessLog, peer: peer, head: head, status: decision.response.status.code, bytes: sent)
        }
        let body = decision.body
        if head.request.method == .get && !body.isEmpty {
            let size = Int64(FileCache.blockSize)
            let first = body.lowerBound / size
            let key = FileCache.BlockKey(file: identity, index: first)
            if (body.upperBound - 1) / size == first, cache.has(key), let bytes = cache.block(key),
                Int64(bytes.count) >= body.upperBound - first * size
            {
                // A body inside one cached block goes out with its head, in one write.
                let start = Int(body.lowerBound - first * size)
                try await connection.write(decision.response.serializedHead() + bytes[start..<start + body.count])
                sent = body.count
            } else {
                try await connection.write(decision.response.serializedHead())
                try await sendBody(body, of: lease.file, identity: identity, on: connection, sent: &sent)
            }
        } else {
            try await connection.write(decision.response.serializedHead())
        }
        // The file shrank while it was sent: the promised length cannot be kept.
        return sent == decision.body.count || head.request.method == .head ? head.keepAlive : false
    }

    /// Sends the bytes of `range`, block by block: cached blocks at once, runs of missing
    /// ones read with a few reads in flight (and kept). Adds the bytes written to `sent`
    /// as they go.
    private func sendBody(
        _ range: Range<Int64>, of file: File, identity: FileIdentity, on connection: borrowing TCPConnection, sent: inout Int
    ) async throws {
        let size = Int64(FileCache.blockSize)
        var offset = range.lowerBound
        while offset < range.upperBound {
            let index = offset / size
            let blockStart = index * size
            if let bytes = cache.block(FileCache.BlockKey(file: identity, index: index)) {
                let end = Int(min(range.upperBound - blockStart, Int64(bytes.count)))
                let start = Int(offset - blockStart)
                guard end > start else { break }
                try await connection.write(bytes[start..<end])
                sent += end - start
                offset = blockStart + Int64(end)
                continue
            }
            var runEnd = index + 1
            while runEnd * size < range.upperBound && runEnd - index < Self.runLimit
                && !cache.has(FileCache.BlockKey(file: identity, index: runEnd))
            {
                runEnd += 1
            }
            // Every block of the run is a miss (the first was counted by `block`).
            cache.misses += Int(runEnd - index - 1)
            let readEnd = min(runEnd * size, identity.size)
            let reader = FileReader(file, from: blockStart, to: readEnd, chunkSize: FileCache.blockSize, readAhead: Self.readAhead)
            var position = blockStart
            do {
                while let chunk = try await reader.next() {
                    let chunkStart = position
                    position += Int64(chunk.count)
                    let wanted = max(offset, chunkStart)..<min(range.upperBound, position)
                    if cache.cachesBlocks {
                        let bytes = chunk.bytes
                        if chunk.count == FileCache.blockSize || position == identity.size {
                            cache.keep(bytes, for: FileCache.BlockKey(file: identity, index: chunkStart / size))
                        }
                        if !wanted.isEmpty {
                            try await connection.write(bytes[Int(wanted.lowerBound - chunkStart)..<Int(wanted.upperBound - chunkStart)])
                        }
                    } else if wanted == chunkStart..<position {
                        try await connection.write(chunk)
                    } else if !wanted.isEmpty {
                        let bytes = chunk.bytes
                        try await connection.write(bytes[Int(wanted.lowerBound - chunkStart)..<Int(wanted.upperBound - chunkStart)])
                    }
                    sent += wanted.count
                    reader.recycle(chunk)
                }
                await reader.close()
            } catch {
                await reader.close()
                throw error
            }
            let reached = min(position, range.upperBound)
            if reached <= offset { break }  // the file ended early
            offset = reached
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
