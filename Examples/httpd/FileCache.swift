import ExampleSupport
import Shoal
import SystemPackage

/// The caches a storage server keeps for itself, since direct I/O bypasses the page
/// cache: open files (a hot file is not opened on every request) and 64 KiB blocks of
/// their contents, least recently used out first. Keys carry the file's identity
/// (inode, size, modification time), so a file changed on disk is never served stale:
/// its new identity misses. Reactor thread only.
final class FileCache: @unchecked Sendable {
    /// Bytes per cached block (and per file read).
    static let blockSize = 64 * 1024
    /// Open files kept.
    static let openFileLimit = 256

    struct BlockKey: Hashable {
        let file: FileIdentity
        let index: Int64
    }

    private struct OpenFile {
        let file: File
        let identity: FileIdentity
        var users = 0
    }

    let reactor: Reactor
    private var blocks: LRUCache<BlockKey, [UInt8]>
    private var files: [String: OpenFile] = [:]
    private var fileOrder: [String] = []
    var hits = 0
    var misses = 0

    /// A cache of at most `capacity` bytes of blocks (0: no block cache).
    init(capacity: Int, reactor: Reactor) {
        self.reactor = reactor
        blocks = LRUCache(capacity: capacity)
    }

    /// The open file at `path` with `identity`, opened now if not kept (or kept with
    /// another identity). Call ``release(_:)`` when done.
    func acquire(_ path: String, identity: FileIdentity, open: () async throws -> File) async throws -> File {
        if var entry = files[path], entry.identity == identity {
            entry.users += 1
            files[path] = entry
            return entry.file
        }
        let file = try await open()
        if let old = files[path] { retire(path, old) }
        files[path] = OpenFile(file: file, identity: identity, users: 1)
        fileOrder.append(path)
        trimFiles()
        return file
    }

    /// Gives back a file from ``acquire(_:identity:open:)``.
    func release(_ path: String, _ file: File) {
        if var entry = files[path], entry.file === file {
            entry.users -= 1
            files[path] = entry
        } else {
            // Replaced while in use: this was its last user.
            close(file)
        }
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

    /// Closes every kept file (at the end).
    func closeAll() async {
        for entry in files.values { try? await entry.file.close() }
        files = [:]
        fileOrder = []
    }

    private func retire(_ path: String, _ entry: OpenFile) {
        files[path] = nil
        fileOrder.removeAll { $0 == path }
        if entry.users == 0 { close(entry.file) }
    }

    /// Closes the oldest unused files past the limit.
    private func trimFiles() {
        var position = 0
        while files.count > Self.openFileLimit && position < fileOrder.count {
            let path = fileOrder[position]
            if let entry = files[path], entry.users == 0 {
                files[path] = nil
                fileOrder.remove(at: position)
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
