import Shoal
import ShoalHTTP
#if canImport(Glibc)
import Glibc
#endif

/// Where a request's path leads below the document root.
enum FileTarget: Sendable {
    /// A regular file: its real path.
    case file(String)
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
        return try await reactor.performBlocking {
            guard let real = realPath(joined), inside(real, root: root) else { return .notFound }
            var status = stat()
            guard stat(real, &status) == 0 else { return .notFound }
            if status.st_mode & S_IFMT == S_IFDIR {
                guard let index = realPath(real + "/index.html"), inside(index, root: root), stat(index, &status) == 0,
                    status.st_mode & S_IFMT == S_IFREG
                else { return .notFound }
                return .file(index)
            }
            return status.st_mode & S_IFMT == S_IFREG ? .file(real) : .notFound
        }
    }

    private static func inside(_ path: String, root: String) -> Bool {
        path == root || path.hasPrefix(root + "/")
    }
}

/// `realpath(3)`: the absolute path with every link followed; `nil` if it does not exist.
func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
