import Foundation
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A folder of its own for one test, removed afterwards.
private func freshFolder(_ name: String) throws -> String {
    let path = try scratchPath(name)
    #expect(mkdir(path, 0o777) == 0)
    return path
}

private func removeTree(_ path: String) {
    _ = try? run("rm", ["-rf", path])
}

/// Names in `folder`, hidden ones included.
private func entries(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}

/// Runs `shoal-copy` as a user would.
private func copy(_ arguments: [String], prefix: [String] = []) throws -> ProcessResult {
    try runBuilt("shoal-copy", arguments, prefix: prefix)
}

@Suite("shoal-copy: the built tool, run as a user runs it")
struct CopyToolTests {
    @Test(
        "files of 0, 1, 4095, 4096, 4097 bytes and a random 5 MiB file copy equal, per cmp",
        arguments: [0, 1, 4_095, 4_096, 4_097, 5 << 20])
    func copiesCompareEqual(size: Int) throws {
        let folder = try freshFolder("copy-sizes")
        defer { removeTree(folder) }
        let source = folder + "/source"
        _ = FileManager.default.createFile(atPath: source, contents: Data((0..<size).map { _ in UInt8.random(in: 0...255) }))
        let result = try copy([source, folder + "/copy", "--quiet"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.isEmpty && result.error.isEmpty)
        let cmp = try run("cmp", [source, folder + "/copy"])
        #expect(cmp.status == 0, "\(cmp.output)")
        #expect(entries(folder) == ["copy", "source"])
    }

    @Test("a sparse source copies equal; --verify checks; copying into a folder keeps the name")
    func sparseVerifyFolder() throws {
        let folder = try freshFolder("copy-sparse")
        defer { removeTree(folder) }
        let source = folder + "/sparse"
        let fd = open(source, O_WRONLY | O_CREAT, 0o644)
        #expect(pwrite(fd, "start", 5, 0) == 5)
        #expect(pwrite(fd, "end", 3, 9_000_000) == 3)
        close(fd)
        #expect(mkdir(folder + "/into", 0o755) == 0)
        let result = try copy([source, folder + "/into", "--verify"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("verified"))
        #expect(try run("cmp", [source, folder + "/into/sparse"]).status == 0)
    }

    @Test("bad sources fail with one line naming the file and the cause, exit 66, and leave nothing")
    func badSources() throws {
        let folder = try freshFolder("copy-bad-source")
        defer { removeTree(folder) }
        #expect(mkfifo(folder + "/fifo", 0o600) == 0)
        let cases: [(String, String)] = [
            (folder + "/missing", "cannot read \(folder)/missing: No such file or directory"),
            (folder, "it is a directory"),
            (folder + "/fifo", "it is a FIFO, not a regular file"),
            ("/dev/null", "it is a device, not a regular file"),
        ]
        for (source, message) in cases {
            let result = try copy([source, folder + "/out"])
            #expect(result.status == 66, "\(source): \(result.status) \(result.error)")
            #expect(result.error.hasPrefix("shoal-copy: "), "\(result.error)")
            #expect(result.error.contains(message), "\(result.error)")
            #expect(result.error.split(separator: "\n").count == 1)
        }
        #expect(entries(folder) == ["fifo"])
    }

    @Test("bad destinations fail with exit 73 and leave nothing: missing folder, copy onto itself, a directory")
    func badDestinations() throws {
        let folder = try freshFolder("copy-bad-destination")
        defer { removeTree(folder) }
        let source = folder + "/source"
        _ = FileManager.default.createFile(atPath: source, contents: Data("data".utf8))
        #expect(mkdir(folder + "/sub", 0o755) == 0)
        #expect(mkdir(folder + "/sub/source", 0o755) == 0)
        let cases: [(String, String)] = [
            (folder + "/missing/out", "cannot copy into \(folder)/missing: No such file or directory"),
            (source, "onto itself"),
            (folder + "/./source", "onto itself"),
            (folder + "/sub", "it is a directory"),
        ]
        for (destination, message) in cases {
            let result = try copy([source, destination])
            #expect(result.status == 73, "\(destination): \(result.status) \(result.error)")
            #expect(result.error.contains(message), "\(result.error)")
        }
        #expect(entries(folder) == ["source", "sub"])
        #expect(entries(folder + "/sub") == ["source"])
    }

    @Test("as an unprivileged user: an unreadable source exits 66, an unwritable folder 73")
    func permissions() throws {
        guard getuid() == 0, let setpriv = Strace.executable(named: "setpriv") else {
            print("skipped: needs root and setpriv to act as another user")
            return
        }
        let folder = try freshFolder("copy-permissions")
        defer { removeTree(folder) }
        chmod(folder, 0o777)
        let secret = folder + "/secret"
        _ = FileManager.default.createFile(atPath: secret, contents: Data("secret".utf8))
        chmod(secret, 0o600)
        let open = folder + "/open"
        _ = FileManager.default.createFile(atPath: open, contents: Data("open".utf8))
        chmod(open, 0o644)
        #expect(mkdir(folder + "/locked", 0o555) == 0)
        let nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        let unreadable = try copy([secret, folder + "/copy"], prefix: nobody)
        #expect(unreadable.status == 66, "\(unreadable.error)")
        #expect(unreadable.error.contains("Permission denied"))
        let unwritable = try copy([open, folder + "/locked/copy"], prefix: nobody)
        #expect(unwritable.status == 73, "\(unwritable.error)")
        #expect(unwritable.error.contains("Permission denied"))
        #expect(entries(folder + "/locked").isEmpty)
        #expect(entries(folder) == ["locked", "open", "secret"])
    }

    @Test("a full disk fails cleanly with exit 74 and leaves neither a partial copy nor the temporary file")
    func diskFull() throws {
        guard getuid() == 0 else {
            print("skipped: mounting a 1 MiB tmpfs needs root")
            return
        }
        let folder = try freshFolder("copy-disk-full")
        defer { removeTree(folder) }
        let small = folder + "/small"
        #expect(mkdir(small, 0o755) == 0)
        guard mount("tmpfs", small, "tmpfs", 0, "size=1m") == 0 else {
            print("skipped: mount -t tmpfs failed: errno \(errno)")
            return
        }
        defer { umount(small) }
        let source = folder + "/big"
        _ = FileManager.default.createFile(atPath: source, contents: Data(count: 3 << 20))
        let result = try copy([source, small + "/copy"])
        #expect(result.status == 74, "\(result.error)")
        #expect(result.error.contains("No space left on device"), "\(result.error)")
        #expect(entries(small).isEmpty, "\(entries(small))")
        // A file that fits still copies: space is reserved for what is written, no more.
        let little = folder + "/little"
        _ = FileManager.default.createFile(atPath: little, contents: Data(count: 100_000))
        let fits = try copy([little, small + "/little", "--quiet"])
        #expect(fits.status == 0, "\(fits.error)")
        #expect(try run("cmp", [little, small + "/little"]).status == 0)
    }

    @Test("either side on tmpfs or ramfs works (ramfs refuses O_DIRECT: buffered I/O)")
    func memoryFileSystems() throws {
        let folder = try freshFolder("copy-memory")
        defer { removeTree(folder) }
        let source = folder + "/source"
        _ = FileManager.default.createFile(atPath: source, contents: Data((0..<(1 << 20) + 7).map { UInt8(truncatingIfNeeded: $0 &* 7) }))
        let shm = "/dev/shm/shoal-copy-\(getpid())"
        defer { unlink(shm) }
        #expect(try copy([source, shm, "--quiet"]).status == 0)
        #expect(try run("cmp", [source, shm]).status == 0)
        #expect(try copy([shm, folder + "/back", "--quiet"]).status == 0)
        #expect(try run("cmp", [source, folder + "/back"]).status == 0)
        guard getuid() == 0 else {
            print("skipped: mounting a ramfs needs root")
            return
        }
        let ram = folder + "/ram"
        #expect(mkdir(ram, 0o755) == 0)
        guard mount("ramfs", ram, "ramfs", 0, nil) == 0 else { return }
        defer { umount(ram) }
        #expect(try copy([source, ram + "/copy", "--quiet", "--verify"]).status == 0)
        #expect(try run("cmp", [source, ram + "/copy"]).status == 0)
        #expect(try copy([ram + "/copy", folder + "/from-ram", "--quiet"]).status == 0)
        #expect(try run("cmp", [source, folder + "/from-ram"]).status == 0)
    }

    @Test("bad flags exit 64 with a usage message; --help documents the exit codes")
    func usage() throws {
        let bad = try copy(["a", "b", "--depth", "0"])
        #expect(bad.status == 64)
        #expect(bad.error.contains("--depth must be between 1 and 64"))
        let size = try copy(["a", "b", "--block-size", "3000"])
        #expect(size.status == 64)
        let help = try copy(["--help"])
        #expect(help.status == 0)
        for code in ["66", "73", "74", "130"] { #expect(help.output.contains("  \(code) "), "\(code)") }
    }
}

@Suite("shoal-copy: interrupted")
struct CopyInterruptTests {
    @Test("SIGINT during a copy exits 130 with one line, no warning, and leaves neither the destination nor the temporary file")
    func interrupted() throws {
        let folder = try scratchPath("copy-interrupt")
        #expect(mkdir(folder, 0o755) == 0)
        defer { _ = try? run("rm", ["-rf", folder]) }
        let source = folder + "/source"
        _ = FileManager.default.createFile(atPath: source, contents: Data(count: 64 << 20))
        // 4 KiB at a time, one in flight: slow enough to be interrupted half way. One
        // SIGINT, as a terminal sends (timeout(1) may send two; the second would kill).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Strace.buildDirectory() + "/shoal-copy")
        process.arguments = [source, folder + "/copy", "--block-size", "4K", "--depth", "1"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        usleep(300_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let copy = ProcessResult(
            status: process.terminationStatus, output: "",
            error: String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        if copy.status == 0 {
            print("skipped: the copy finished before the signal")
            return
        }
        #expect(copy.status == 130, "\(copy.error)")
        // One line, the reason: interrupting a copy is no programmer's mistake to warn of.
        // (The stall detector may report a slow turn on a loaded machine: not this test's matter.)
        let lines = copy.error.split(separator: "\n").filter { !$0.contains("reactor stalled") }
        #expect(lines == ["shoal-copy: interrupted; nothing was left behind"], "\(copy.error)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        #expect(left == ["source"], "\(left)")
    }
}

extension CopyInterruptTests {
    @Test("two signals during a copy: the second ends it at once, by the signal, and the temporary file is gone too")
    func interruptedTwice() throws {
        let folder = try scratchPath("copy-interrupt-twice")
        #expect(mkdir(folder, 0o755) == 0)
        defer { _ = try? run("rm", ["-rf", folder]) }
        let source = folder + "/source"
        // Sparse, and large blocks: each one takes long enough that the second signal comes
        // before the copy has finished winding down after the first.
        _ = FileManager.default.createFile(atPath: source, contents: nil)
        #expect(truncate(source, 1 << 30) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Strace.buildDirectory() + "/shoal-copy")
        process.arguments = [source, folder + "/copy", "--block-size", "64M", "--depth", "1", "--quiet"]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until the temporary file exists, then send two signals, the second after
        // the first was handled (two pending at once would merge into one).
        var started = false
        for _ in 0..<500 where !started {
            started = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.contains(".shoal-copy-") }
            if !started { usleep(10_000) }
        }
        kill(process.processIdentifier, SIGINT)
        usleep(5_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        if process.terminationStatus == 0 || process.terminationReason == .exit {
            print("skipped: the copy finished or cleaned up before the second signal")
            return
        }
        #expect(started)
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        #expect(left == ["source"], "\(left)")
    }
}

@Suite("shoal-copy: destinations and names")
struct CopyDestinationTests {
    @Test("a trailing slash demands a folder; FIFOs and devices are not replaced; long names work; set-id bits go")
    func destinations() throws {
        let folder = try scratchPath("copy-destinations")
        #expect(mkdir(folder, 0o755) == 0)
        defer { _ = try? run("rm", ["-rf", folder]) }
        let source = folder + "/source"
        _ = FileManager.default.createFile(atPath: source, contents: Data("data".utf8))
        chmod(source, 0o6755)
        let slash = try copy([source, folder + "/missing/"])
        #expect(slash.status == 73)
        #expect(slash.error.contains("it is not a directory"), "\(slash.error)")
        #expect(mkfifo(folder + "/fifo", 0o600) == 0)
        let fifo = try copy([source, folder + "/fifo"])
        #expect(fifo.status == 73)
        #expect(fifo.error.contains("it is not a regular file"), "\(fifo.error)")
        let long = String(repeating: "a", count: 240)
        let named = try copy([source, folder + "/" + long, "--quiet"])
        #expect(named.status == 0, "\(named.error)")
        var info = stat()
        #expect(stat(folder + "/" + long, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o755)
        let huge = try copy([source, folder + "/x", "--block-size", "9223372036854775807K"])
        #expect(huge.status == 64)
    }

    @Test("a symbolic link at the destination is followed, as cp does")
    func symlinkDestination() throws {
        let folder = try scratchPath("copy-symlink")
        #expect(mkdir(folder, 0o755) == 0)
        defer { _ = try? run("rm", ["-rf", folder]) }
        let source = folder + "/source"
        _ = FileManager.default.createFile(atPath: source, contents: Data("new".utf8))
        _ = FileManager.default.createFile(atPath: folder + "/target", contents: Data("old".utf8))
        #expect(symlink("target", folder + "/link") == 0)
        #expect(try copy([source, folder + "/link", "--quiet"]).status == 0)
        #expect(try String(contentsOfFile: folder + "/target", encoding: .utf8) == "new")
        var info = stat()
        #expect(lstat(folder + "/link", &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
    }

    @Test("a dangling symbolic link at the destination is refused with one line, as cp does, and left as it was")
    func danglingSymlinkDestination() throws {
        let folder = try scratchPath("copy-dangling")
        #expect(mkdir(folder, 0o755) == 0)
        defer { _ = try? run("rm", ["-rf", folder]) }
        let source = folder + "/source"
        _ = FileManager.default.createFile(atPath: source, contents: Data("new".utf8))
        #expect(symlink("nowhere", folder + "/link") == 0)
        #expect(mkdir(folder + "/into", 0o755) == 0)
        #expect(symlink("nowhere", folder + "/into/source") == 0)
        // Named, and reached by copying into a folder where the name is a dangling link.
        for (destination, link) in [(folder + "/link", folder + "/link"), (folder + "/into", folder + "/into/source")] {
            let result = try copy([source, destination])
            #expect(result.status == 73, "\(destination): \(result.status) \(result.error)")
            #expect(result.error == "shoal-copy: not writing through dangling symbolic link \(link)\n", "\(result.error)")
            var info = stat()
            #expect(lstat(link, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "nowhere")
        }
        #expect(entries(folder) == ["into", "link", "source"])
        #expect(entries(folder + "/into") == ["source"])
    }
}
