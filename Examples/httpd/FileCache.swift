import ExampleSupport
import Shoal
import SystemPackage

/// The caches a storage server keeps for itself, since direct I/O bypasses the page
/// cache: open files (a hot file is not opened on every request) and 64 KiB blocks of
/// their contents, least recently used out first. Keys carry the file's identity
/// (inode, size, modification and change times) as `fstat` of the open descriptor gives
/// it, so a file changed on disk is never served stale (its new identity misses), and
/// the bytes cached under an identity are always that file's. Reactor thread only.
final class FileCache: @unchecked Sendable {
    /// Bytes per cached block (and per file read).
    static let blockSize = 64 * 1024

    struct BlockKey: Hashable {
        let file: FileIdentity
        let index: Int64
    }

    /// A kept file and the responses using it; it is closed when it is neither kept nor used.
    fileprivate final class OpenFile: @unchecked Sendable {
        let file: File
        let identity: FileIdentity
        let representation: FileResponse.Representation
        var users = 0
        var kept = true

        init(file: File, identity: FileIdentity, path: String) {
            self.file = file
            self.identity = identity
            representation = FileResponse.Representation(identity, path: path)
        }
    }

    let reactor: Reactor
    private var blocks: LRUCache<BlockKey, [UInt8]>
    private var files: [String: OpenFile] = [:]
    private var fileOrder: [String] = []
    var hits = 0
    var misses = 0

    /// Open files kept at most.
    let openFileLimit: Int

    /// A cache of at most `capacity` bytes of blocks (0: no block cache) and
    /// `openFileLimit` open files.
    init(capacity: Int, openFileLimit: Int = 256, reactor: Reactor) {
        self.reactor = reactor
        self.openFileLimit = openFileLimit
        blocks = LRUCache(capacity: capacity)
    }

    /// The open file at `path` with `identity`, opened now if not kept (or kept with
    /// another identity). Give it back with ``release(_:)`` when done.
    ///
    /// The lease's identity is the opened file's own (`fstat`): if the name was replaced
    /// between the lookup and the open, it differs from `identity`, and the response
    /// describes the file it sends. When descriptors run out, the kept files no response
    /// uses are closed and the open is tried once more.
    ///
    /// A kept file is checked with `fstat` at every use (no disk I/O): a write that
    /// reached it through a name inotify does not watch (a hard link elsewhere) is seen at
    /// once. A file opened with `keep` false (its path has no watch on every folder, or
    /// goes through a symbolic link) is closed when its response is done.
    func acquire(_ path: String, identity: FileIdentity, keep: Bool = true, open: () async throws -> File) async throws -> Lease {
        if let entry = files[path], entry.identity == identity {
            if FileIdentity(descriptor: entry.file.descriptor.rawValue) == entry.identity {
                entry.users += 1
                return Lease(entry)
            }
            retire(path, entry)
        }
        let file: File
        do {
            file = try await open()
        } catch let error as SystemCallError where [.tooManyOpenFiles, .tooManyOpenFilesInSystem].contains(error.errno) {
            guard await closeUnused() > 0 else { throw error }
            file = try await open()
        }
        guard let opened = FileIdentity(descriptor: file.descriptor.rawValue) else {
            try? await file.close()
            throw Refusal(status: .internalServerError, reason: "the file could not be examined")
        }
        let entry = OpenFile(file: file, identity: opened, path: path)
        entry.users = 1
        guard keep else {
            entry.kept = false
            return Lease(entry)
        }
        // Another response may have opened the same file meanwhile: the newer one is kept.
        if let old = files[path] { retire(path, old) }
        files[path] = entry
        fileOrder.append(path)
        trimFiles()
        return Lease(entry)
    }

    /// An open file lent to one response (reactor thread only, as the cache).
    struct Lease: @unchecked Sendable {
        fileprivate let entry: OpenFile
        fileprivate init(_ entry: OpenFile) { self.entry = entry }
        var file: File { entry.file }
        /// What the open file is (`fstat` when it was opened).
        var identity: FileIdentity { entry.identity }
        /// Its validators and type, worked out once.
        var representation: FileResponse.Representation { entry.representation }
    }

    /// Gives back a file from ``acquire(_:identity:open:)``; a file no longer kept is
    /// closed when its last user gives it back.
    func release(_ lease: Lease) {
        let entry = lease.entry
        entry.users -= 1
        if !entry.kept && entry.users == 0 { close(entry.file) }
    }

    /// A cached block.
    func block(_ key: BlockKey) -> [UInt8]? {
        let found = blocks.value(for: key)
        if found == nil { misses += 1 } else { hits += 1 }
        return found
    }

    /// Whether a block is kept (not counted as a hit or a miss).
    func has(_ key: BlockKey) -> Bool { blocks.contains(key) }

    /// Keeps a block (when the cache has room for any).
    func keep(_ bytes: [UInt8], for key: BlockKey) {
        blocks.insert(bytes, for: key, cost: bytes.count)
    }

    /// Whether blocks are cached at all.
    var cachesBlocks: Bool { blocks.capacity > 0 }

    /// Stops keeping the files a change on disk touched (a path that changed, or one
    /// below a folder that did; everything when anything may have changed): each closes
    /// once no response uses it, so a deleted file's space is freed.
    func forget(_ change: PathCache.Change) {
        let touched: [String]
        switch change {
        case .everything:
            touched = Array(files.keys)
        case .paths(let paths):
            // A kept file is touched when it, or a folder above it, changed: a look-up
            // per level of each kept path, however many changes came.
            let changed = Set(paths)
            touched = files.keys.filter { path in
                var current = Substring(path)
                while !current.isEmpty {
                    if changed.contains(String(current)) { return true }
                    guard let slash = current.lastIndex(of: "/") else { return false }
                    current = current[..<slash]
                }
                return false
            }
        }
        for path in touched {
            if let entry = files[path] { retire(path, entry) }
        }
    }

    /// Closes the kept files no response uses (a change on disk was seen, or descriptors
    /// ran out: a deleted file's space is freed, and a replaced one's descriptor); returns
    /// how many.
    @discardableResult
    func closeUnused() async -> Int {
        let unused = files.filter { $0.value.users == 0 }
        for (path, entry) in unused {
            files[path] = nil
            entry.kept = false
        }
        fileOrder.removeAll { files[$0] == nil }
        for entry in unused.values { try? await entry.file.close() }
        return unused.count
    }

    /// Closes every kept file (at the end).
    func closeAll() async {
        for entry in files.values { try? await entry.file.close() }
        files = [:]
        fileOrder = []
    }

    private func retire(_ path: String, _ entry: OpenFile) {
        files[path] = nil
        fileOrder.removeAll { $0 == path }
        entry.kept = false
        if entry.users == 0 { close(entry.file) }
    }

    /// Closes the oldest unused files past the limit.
    private func trimFiles() {
        var position = 0
        while files.count > openFileLimit && position < fileOrder.count {
            let path = fileOrder[position]
            if let entry = files[path], entry.users == 0 {
                files[path] = nil
                fileOrder.remove(at: position)
                entry.kept = false
                close(entry.file)
            } else {
                position += 1
            }
        }
    }

    private func close(_ file: File) {
        reactor.spawn { try? await file.close() }
    }
}
