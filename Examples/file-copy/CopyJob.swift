import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// Why a copy failed: the one line to print and the exit code.
struct CopyFailure: Error {
    let message: String
    let exitCode: Int32

    static func source(_ message: String) -> CopyFailure { CopyFailure(message: message, exitCode: 66) }
    static func destination(_ message: String) -> CopyFailure { CopyFailure(message: message, exitCode: 73) }
    static func io(_ message: String) -> CopyFailure { CopyFailure(message: message, exitCode: 74) }
    static let interrupted = CopyFailure(message: "interrupted; nothing was left behind", exitCode: 130)
}

/// One copy: checks, the temporary file, the reactor loop, the rename.
struct CopyJob: Sendable {
    /// Defaults chosen by measurement (docs/performance.md, "Copying a file").
    static let defaultDepth = 2
    static let defaultBlockSize = 1 << 20

    let source: FilePath
    let destination: FilePath
    let depth: Int
    let blockSize: Int
    let verify: Bool
    let progress: Bool
    /// The destination was written with a trailing `/`: it must be a folder.
    let destinationIsFolder: Bool

    /// "4096", "128K", "1M" in bytes; `nil` when it is not a size or does not fit.
    static func parseSize(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "k": 1 << 10, "M": 1 << 20, "m": 1 << 20]
        guard let last = text.last, let unit = units[last] else { return Int(text) }
        guard let number = Int(text.dropLast()) else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }

    /// The longest file name Linux file systems take (NAME_MAX).
    static let longestName = 255

    func run(interrupted: @escaping @Sendable () -> Bool) async -> Result<String, CopyFailure> {
        do {
            return .success(try await Reactor.run { reactor in try await copy(on: reactor, interrupted: interrupted) })
        } catch let failure as CopyFailure {
            return .failure(failure)
        } catch {
            return .failure(.io("\(error)"))
        }
    }

    private func copy(on reactor: Reactor, interrupted: @escaping @Sendable () -> Bool) async throws -> String {
        let fileSystem = reactor.fileSystem
        let sourceStatus = try await Self.check(source, on: fileSystem)
        let target = try await resolveDestination(sourceStatus, on: fileSystem)
        let parent = target.removingLastComponent()
        let folder: FilePath = parent.isEmpty ? "." : parent
        let name = target.lastComponent?.string ?? "copy"
        // ".NAME.shoal-copy-PID-RANDOM", with NAME cut so the whole stays a valid name.
        let suffix = ".shoal-copy-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let room = Self.longestName - 1 - suffix.utf8.count
        var stem = Substring(name)
        while stem.utf8.count > room { stem = stem.dropLast() }
        let temporary = folder.appending("." + stem + suffix)
        let start = Reactor.Instant.now
        let input: File
        do {
            input = try await File.open(source, on: reactor)
        } catch {
            throw CopyFailure.source("cannot read \(source): \(Self.reason(error))")
        }
        var output: File?
        do {
            do {
                // The source's permissions, without set-user-id, set-group-id or sticky
                // bits (as cp without -p).
                let permissions = FilePermissions(rawValue: sourceStatus.permissions.rawValue & 0o777)
                output = try await File.open(
                    temporary, .readWrite, options: [.create, .exclusiveCreate], permissions: permissions, on: reactor)
            } catch {
                throw CopyFailure.destination("cannot create a file in \(folder): \(Self.reason(error))")
            }
            Interruption.removeOnSecondSignal(temporary.string)
            let bytes = try await transfer(from: input, to: output!, total: sourceStatus.size, interrupted: interrupted)
            if verify { try await compare(input, output!, bytes: bytes, interrupted: interrupted) }
            if interrupted() { throw CancellationError() }
            try await output!.close()
            try await input.close()
            if interrupted() { throw CancellationError() }
            do {
                try await fileSystem.rename(temporary, to: target)
                Interruption.removeOnSecondSignal("")
                try await fileSystem.sync(directory: folder)
            } catch {
                throw CopyFailure.destination("cannot put the copy in place at \(target): \(Self.reason(error))")
            }
            let seconds =
                Double(start.duration(to: .now).components.attoseconds) / 1e18
                + Double(start.duration(to: .now).components.seconds)
            let rate = seconds > 0 ? Double(bytes) / seconds / 1_048_576 : 0
            return "copied \(bytes) bytes from \(source) to \(target) in \(Self.format(seconds)) s (\(Self.format(rate)) MiB/s)"
                + (verify ? ", verified" : "")
        } catch {
            // Nothing partial stays behind: the temporary file goes, the destination was never touched.
            if let output { try? await output.close() }
            try? await input.close()
            if output != nil { try? await fileSystem.remove(temporary) }
            if let failure = error as? CopyFailure { throw failure }
            if error is CancellationError { throw CopyFailure.interrupted }
            throw CopyFailure.io("copying \(source) to \(target) failed: \(Self.reason(error))")
        }
    }

    /// The source must exist, be readable and be a regular file.
    private static func check(_ source: FilePath, on fileSystem: FileSystem) async throws -> Stat {
        let status: Stat
        do {
            status = try await fileSystem.status(of: source)
        } catch {
            throw CopyFailure.source("cannot read \(source): \(reason(error))")
        }
        switch status.type {
        case .regular: return status
        case .directory: throw CopyFailure.source("cannot copy \(source): it is a directory")
        case .fifo: throw CopyFailure.source("cannot copy \(source): it is a FIFO, not a regular file")
        case .socket: throw CopyFailure.source("cannot copy \(source): it is a socket, not a regular file")
        default: throw CopyFailure.source("cannot copy \(source): it is a device, not a regular file")
        }
    }

    /// The destination file: `destination`, or a file named as the source inside it
    /// when it is a folder (which a trailing `/` demands). A symbolic link is followed,
    /// as `cp` does; one that leads nowhere is refused, as `cp` does, rather than
    /// replaced. Refuses a copy onto the source itself, and replacing anything but a
    /// regular file.
    private func resolveDestination(_ sourceStatus: Stat, on fileSystem: FileSystem) async throws -> FilePath {
        var target = destination
        let destinationStatus = try? await fileSystem.status(of: destination)
        if let destinationStatus, destinationStatus.type == .directory {
            guard let name = source.lastComponent else { throw CopyFailure.destination("cannot name the copy of \(source)") }
            target = destination.appending(name)
        } else if destinationIsFolder {
            throw CopyFailure.destination("cannot copy into \(destination)/: it is not a directory")
        }
        if let link = try? await fileSystem.status(of: target, followingSymlinks: false), link.type == .symbolicLink {
            switch Self.resolve(target) {
            case .success(let resolved):
                target = resolved
            case .failure(.noSuchFileOrDirectory):
                throw CopyFailure.destination("not writing through dangling symbolic link \(target)")
            case .failure(let error):
                throw CopyFailure.destination("cannot copy to \(target): \(Self.reason(error))")
            }
        }
        if let status = try? await fileSystem.status(of: target) {
            if status.deviceID == sourceStatus.deviceID && status.inode == sourceStatus.inode {
                throw CopyFailure.destination("cannot copy \(source) onto itself (\(target))")
            }
            switch status.type {
            case .regular: break
            case .directory: throw CopyFailure.destination("cannot replace \(target): it is a directory")
            default: throw CopyFailure.destination("cannot replace \(target): it is not a regular file")
            }
        }
        let parent = target.removingLastComponent()
        let folder: FilePath = parent.isEmpty ? "." : parent
        let folderStatus: Stat
        do {
            folderStatus = try await fileSystem.status(of: folder)
        } catch {
            throw CopyFailure.destination("cannot copy into \(folder): \(Self.reason(error))")
        }
        guard folderStatus.type == .directory else {
            throw CopyFailure.destination("cannot copy into \(folder): it is not a directory")
        }
        return target
    }

    /// Reads the source in chunks, several in flight, and hands each chunk to the writer.
    private func transfer(
        from input: File, to output: File, total: Int64, interrupted: @escaping @Sendable () -> Bool
    ) async throws -> Int64 {
        let reader = FileReader(input, chunkSize: blockSize, readAhead: depth)
        // The writer hands each written chunk back to the reader's pool: after the first
        // few, no chunk is allocated (or zero-filled, or faulted in) again.
        let writer = FileWriter(
            output, chunkSize: reader.chunkSize, writeBehind: depth, expectedSize: total, pool: reader.pool)
        let bar = progress ? ProgressBar(total: total) : nil
        var copied: Int64 = 0
        do {
            while let chunk = try await reader.next() {
                if interrupted() { throw CancellationError() }
                copied += Int64(chunk.count)
                try await writer.write(chunk)
                bar?.update(copied)
            }
            try await writer.finish(sync: true)
        } catch {
            // The copy is abandoned (its temporary file goes): no finish, and no warning.
            await writer.discard()
            await reader.close()
            bar?.clear()
            throw error
        }
        bar?.clear()
        return copied
    }

    /// Reads both files back and compares them (--verify).
    private func compare(
        _ input: File, _ output: File, bytes: Int64, interrupted: @escaping @Sendable () -> Bool
    ) async throws {
        let left = FileReader(input, chunkSize: blockSize, readAhead: depth)
        let right = FileReader(output, chunkSize: blockSize, readAhead: depth)
        var offset: Int64 = 0
        while true {
            guard let a = try await left.next() else {
                if try await right.next() == nil && offset == bytes { return }
                break
            }
            guard let b = try await right.next() else { break }
            if interrupted() { throw CancellationError() }
            let same = a.withUnsafeBytes { x in
                b.withUnsafeBytes { y in x.count == y.count && memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
            }
            if !same { break }
            offset += Int64(a.count)
            left.recycle(a)
            right.recycle(b)
            await Task.yield()
        }
        throw CopyFailure(message: "verify failed: \(destination) differs from \(source) near byte \(offset)", exitCode: 65)
    }

    /// The path a symbolic link leads to (`realpath`), or why it leads nowhere
    /// (`ENOENT` for a dangling link, `ELOOP`, `EACCES`, ...).
    static func resolve(_ path: FilePath) -> Result<FilePath, Errno> {
        guard let resolved = path.withPlatformString({ realpath($0, nil) }) else { return .failure(.current) }
        defer { free(resolved) }
        return .success(FilePath(String(cString: resolved)))
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? SystemCallError { return "\(error.errno) (errno \(error.errno.rawValue))" }
        if let error = error as? Errno { return "\(error) (errno \(error.rawValue))" }
        return "\(error)"
    }

    static func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(String(hundredths % 100).leftPadded(2))"
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Writes `text` to standard error.
func printError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = try? FileDescriptor.standardError.writeAll(bytes) }
}
