import CShoal
import ShoalKernel

#if canImport(Glibc)
import Glibc
#endif

/// Calls on paths (status, rename, remove, list and make directories, sync one), made
/// on the reactor's blocking-call thread: they can block in the kernel and have no
/// asynchronous form. Get one from ``Reactor/fileSystem``.
public struct FileSystem: Sendable {
    /// The reactor whose blocking-call thread makes the calls.
    public let reactor: Reactor

    /// The status of `path` (`stat`, or `lstat` when `followingSymlinks` is `false`).
    public func status(of path: FilePath, followingSymlinks: Bool = true) async throws -> Stat {
        try await blocking("stat", path) {
            do {
                return try Stat(path, followTargetSymlink: followingSymlinks)
            } catch {
                throw SystemCallError(
                    call: followingSymlinks ? "stat" : "lstat", errno: (error as? Errno) ?? .ioError, path: path)
            }
        }
    }

    /// Renames `source` to `destination` (`rename`), replacing it if it exists.
    public func rename(_ source: FilePath, to destination: FilePath) async throws {
        try await blocking("rename", source) {
            let result = source.withPlatformString { from in destination.withPlatformString { Glibc.rename(from, $0) } }
            if result != 0 {
                throw SystemCallError(call: "rename", errno: .current, path: source, detail: "renaming it to \(destination)")
            }
        }
    }

    /// Removes the file `path` (`unlink`).
    public func remove(_ path: FilePath) async throws {
        try await blocking("unlink", path) {
            if path.withPlatformString({ Glibc.unlink($0) }) != 0 {
                throw SystemCallError(call: "unlink", errno: .current, path: path)
            }
        }
    }

    /// Removes the empty directory `path` (`rmdir`).
    public func removeDirectory(_ path: FilePath) async throws {
        try await blocking("rmdir", path) {
            if path.withPlatformString({ Glibc.rmdir($0) }) != 0 {
                throw SystemCallError(call: "rmdir", errno: .current, path: path)
            }
        }
    }

    /// The names in the directory `path`, without `.` and `..`, in no particular order
    /// (`opendir`, `readdir`).
    public func contents(of path: FilePath) async throws -> [String] {
        try await blocking("opendir", path) {
            guard let directory = path.withPlatformString({ opendir($0) }) else {
                throw SystemCallError(call: "opendir", errno: .current, path: path)
            }
            defer { closedir(directory) }
            var names: [String] = []
            while true {
                errno = 0
                guard let entry = readdir(directory) else {
                    if errno != 0 { throw SystemCallError(call: "readdir", errno: .current, path: path) }
                    return names
                }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
        }
    }

    /// Makes the directory `path` (`mkdir`).
    public func makeDirectory(
        _ path: FilePath, permissions: FilePermissions = [.ownerReadWriteExecute, .groupReadExecute, .otherReadExecute]
    ) async throws {
        try await blocking("mkdir", path) {
            if path.withPlatformString({ Glibc.mkdir($0, permissions.rawValue) }) != 0 {
                throw SystemCallError(call: "mkdir", errno: .current, path: path)
            }
        }
    }

    /// Flushes the directory `path` to stable storage (`open` and `fsync` of the
    /// directory): what makes a rename or a new file's name durable.
    public func sync(directory path: FilePath) async throws {
        try await blocking("fsync", path) {
            let fd = path.withPlatformString { Glibc.open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            if fd < 0 { throw SystemCallError(call: "open", errno: .current, path: path) }
            defer { _ = Glibc.close(fd) }
            if Glibc.fsync(fd) != 0 { throw SystemCallError(call: "fsync", errno: .current, path: path) }
        }
    }
}

extension FileSystem {
    /// Runs `body` on the blocking-call thread; after stop, throws naming `call` and `path`.
    private func blocking<T: Sendable>(
        _ call: String, _ path: FilePath, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        if reactor.currentPhase == .stopped { throw ReactorError.stopped("\(call) \(path)") }
        return try await reactor.performBlocking(body)
    }
}

extension Reactor {
    /// Calls on paths, made on the reactor's blocking-call thread.
    public var fileSystem: FileSystem { FileSystem(reactor: self) }
}
