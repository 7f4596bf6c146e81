import Shoal
import ShoalHTTP
#if canImport(Glibc)
import Glibc
#endif

/// Where a request's path leads below the document root.
enum FileTarget: Sendable {
    /// A regular file: its real path, and what identifies its current contents.
    case file(String, FileIdentity)
    /// A directory asked for without the trailing slash: redirect there (its relative
    /// links resolve against it).
    case directory(location: String)
    /// Nothing to serve (missing, outside the root, not a regular file).
    case notFound
    /// A target that is not a valid path (bad percent-encoding, encoded separators).
    case malformed

    /// Resolves `target` below `root` (a real path, no trailing slash) on the blocking-call
    /// thread: follows symbolic links with `realpath` and keeps only what stays inside the
    /// root; a directory serves its `index.html`.
    static func resolve(_ target: String, root: String, on reactor: Reactor) async throws -> FileTarget {
        let segments: [String]
        do {
            segments = try RequestPath.segments(of: target)
        } catch .malformed {
            return .malformed
        } catch {
            return .notFound
        }
        let joined = ([root] + segments).joined(separator: "/")
        let path = target.split(separator: "?", maxSplits: 1)[0]
        let asksForDirectory = path.hasSuffix("/")
        return try await reactor.performBlocking {
            guard let real = realPath(joined), allowed(real, root: root) else { return .notFound }
            var status = stat()
            guard stat(real, &status) == 0 else { return .notFound }
            if status.st_mode & S_IFMT == S_IFDIR {
                if !asksForDirectory { return .directory(location: path + "/") }
                guard let index = realPath(real + "/index.html"), allowed(index, root: root), stat(index, &status) == 0,
                    status.st_mode & S_IFMT == S_IFREG
                else { return .notFound }
                return .file(index, FileIdentity(status))
            }
            // A file named as a folder (`/a.txt/`) is not there.
            return status.st_mode & S_IFMT == S_IFREG && !asksForDirectory ? .file(real, FileIdentity(status)) : .notFound
        }
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

/// A file's contents as of one `stat`: the same identity means the same bytes (a write
/// changes the modification time; a replacement changes the inode).
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let seconds: Int
    let nanoseconds: Int

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        seconds = Int(status.st_mtim.tv_sec)
        nanoseconds = Int(status.st_mtim.tv_nsec)
    }
}
