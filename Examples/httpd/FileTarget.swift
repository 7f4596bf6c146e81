import Shoal
import ShoalHTTP

#if canImport(Glibc)
import Glibc
#endif

/// Where a request's path leads below the document root.
enum FileTarget: Sendable {
    /// A regular file: its real path, what identifies its current contents, and whether
    /// its open file may be kept (every folder on the way is watched and no link was
    /// followed, so a change there is seen).
    case file(String, FileIdentity, keep: Bool)
    /// A directory asked for without the trailing slash: redirect there (its relative
    /// links resolve against it).
    case directory(location: String)
    /// Nothing to serve (missing, outside the root, not a regular file).
    case notFound
    /// A target that is not a valid path (bad percent-encoding, encoded separators).
    case malformed

    /// Resolves `target` below `root` (a real path, no trailing slash): from `cache` when
    /// it remembers the path, else on the blocking-call thread, following symbolic links
    /// with `realpath` and keeping only what stays inside the root; a directory serves
    /// its `index.html`.
    static func resolve(_ target: String, root: String, on reactor: Reactor, cache: PathCache) async throws -> FileTarget {
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
        if let known = cache.lookup(path) { return known }
        let segments: [String]
        do {
            segments = try RequestPath.segments(of: target)
        } catch .malformed {
            return .malformed
        } catch {
            return .notFound
        }
        let generation = cache.generation
        // Where a directory asked for without its slash redirects: one leading slash (`//a`
        // would name a host), the query kept.
        let query = target.firstIndex(of: "?").map { String(target[$0...]) } ?? ""
        let location = "/" + path.drop { $0 == "/" } + "/" + query
        let asksForDirectory = path.hasSuffix("/") || path.hasSuffix("/.")
        let (result, remember) = try await reactor.performBlocking {
            resolve(segments, asksForDirectory: asksForDirectory, location: location, root: root, cache: cache)
        }
        if remember { cache.store(result, for: path, generation: generation) }
        return result
    }

    /// The lookup itself (blocking-call thread), and whether its result may be
    /// remembered: every directory on the way is watched (before it is looked at) and no
    /// symbolic link was followed.
    private static func resolve(
        _ segments: [String], asksForDirectory: Bool, location: String, root: String, cache: PathCache
    ) -> (FileTarget, Bool) {
        let joined = ([root] + segments).joined(separator: "/")
        var watched = cache.watch(root.isEmpty ? "/" : root)
        var folder = root
        for segment in segments.dropLast() where watched {
            folder += "/" + segment
            watched = cache.watch(folder)
        }
        guard let real = realPath(joined), allowed(real, root: root) else { return (.notFound, false) }
        var status = stat()
        guard stat(real, &status) == 0 else { return (.notFound, false) }
        if status.st_mode & S_IFMT == S_IFDIR {
            // Not remembered: the location carries this request's query.
            if !asksForDirectory { return (.directory(location: location), false) }
            watched = watched && cache.watch(real)
            let expected = joined + "/index.html"
            guard let index = realPath(expected), allowed(index, root: root), stat(index, &status) == 0,
                status.st_mode & S_IFMT == S_IFREG
            else { return (.notFound, false) }
            let remember = watched && index == expected
            return (.file(index, FileIdentity(status), keep: remember), remember)
        }
        // A file named as a folder (`/a.txt/`) is not there.
        guard status.st_mode & S_IFMT == S_IFREG && !asksForDirectory else { return (.notFound, false) }
        let remember = watched && real == joined
        return (.file(real, FileIdentity(status), keep: remember), remember)
    }

    /// Whether a real path may be served: inside the root, and no component below the
    /// root is hidden (a symbolic link inside the root must not lead to `.env`).
    static func allowed(_ path: String, root: String) -> Bool {
        guard path == root || path.hasPrefix(root + "/") else { return false }
        return !path.dropFirst(root.count).split(separator: "/").contains { $0.hasPrefix(".") }
    }
}

/// `realpath(3)`: the absolute path with every link followed; `nil` if it does not exist.
func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// The path the kernel has for an open descriptor (`/proc/self/fd/N`): where the file
/// really is, whatever was renamed or swapped since its name was checked.
func openedPath(_ descriptor: Int32) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A file's contents as of one `stat`: the same identity means the same bytes. A write
/// changes the modification and change times; a replacement changes the inode; and the
/// change time, which no one can set back (`cp -p` and `touch -r` set the modification
/// time only), catches a rewrite that keeps the size and the modification time, and a
/// reused inode number.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let seconds: Int
    let nanoseconds: Int
    let changeSeconds: Int
    let changeNanoseconds: Int

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        seconds = Int(status.st_mtim.tv_sec)
        nanoseconds = Int(status.st_mtim.tv_nsec)
        changeSeconds = Int(status.st_ctim.tv_sec)
        changeNanoseconds = Int(status.st_ctim.tv_nsec)
    }

    /// The identity of an open descriptor's file (`fstat`: no disk I/O, the inode is in
    /// memory); `nil` if the call fails.
    init?(descriptor: Int32) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        self.init(status)
    }
}
