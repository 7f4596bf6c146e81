import Foundation
import ShoalTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Version `n` of a file: its number in the first 8 bytes, then bytes and a length of
/// its own.
private func version(_ number: Int) -> [UInt8] {
    withUnsafeBytes(of: UInt64(number).littleEndian) { Array($0) }
        + [UInt8](repeating: UInt8(truncatingIfNeeded: number), count: 100_000 + (number % 50) * 997)
}

/// The version a body claims to be, if it is that whole version.
private func wholeVersion(_ body: [UInt8]) -> Int? {
    guard body.count >= 8 else { return nil }
    let number = body.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    return number < 1 << 30 && body == version(number) ? number : nil
}

@Suite("shoal-httpd: a response is always one whole version of one file")
struct HTTPConsistencyTests {
    @Test("files replaced by rename every 2 ms under load: every body is one whole version, with and without the block cache")
    func atomicReplaceNeverTears() throws {
        let root = try site("httpd-atomic")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data(version(0)).write(to: URL(fileURLWithPath: "\(root)/f.bin"))
        for arguments in [[], ["--cache-size", "0"]] {
            let server = try FileServer(root: root, arguments)
            let port = server.port
            let stop = Atomic<Bool>(false)
            let replacer = ThreadForTest {
                var number = 1
                while !stop.load(ordering: .relaxed) {
                    let temporary = "\(root)/.next-\(number)"
                    _ = FileManager.default.createFile(atPath: temporary, contents: Data(version(number)))
                    rename(temporary, "\(root)/f.bin")
                    number += 1
                    usleep(2_000)
                }
            }
            let bad = Mutex<[String]>([])
            let served = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                guard let client = try? TestClient(port: port) else { return }
                let deadline = ContinuousClock.now + .seconds(2)
                while ContinuousClock.now < deadline {
                    guard let (head, body) = try? fetch(client, "/f.bin") else {
                        bad.withLock { $0.append("the connection ended inside a response") }
                        return
                    }
                    served.add(1, ordering: .relaxed)
                    if wholeVersion(body) == nil {
                        bad.withLock { $0.append("\(head.prefix(12)): \(body.count) bytes, not one whole version") }
                    }
                }
            }
            stop.store(true, ordering: .relaxed)
            replacer.join()
            #expect(served.load(ordering: .relaxed) > 50)
            #expect(bad.withLock { $0 }.isEmpty, "\(arguments): \(bad.withLock { Array($0.prefix(5)) })")
            #expect(try server.stop().status == 0)
        }
    }

    @Test("a rewrite that keeps size and modification time (cp -p) is served fresh, with a new ETag")
    func sameSizeSameTime() throws {
        let root = try site("httpd-same-time")
        defer { _ = try? run("rm", ["-rf", root]) }
        let path = "\(root)/cfg.txt"
        func write(_ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            var times = [timespec(tv_sec: 1_767_225_600, tv_nsec: 0), timespec(tv_sec: 1_767_225_600, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        }
        try write("config v1 AAAA")
        for arguments in [[], ["--cache-size", "0"]] {
            let server = try FileServer(root: root, arguments)
            let url = "\(server.base)/cfg.txt"
            #expect(try curl([url]).output == "config v1 AAAA")
            let firstHead = try curl(["-I", url]).output.split(separator: "\r\n")
            let first = firstHead.first { $0.hasPrefix("ETag") }
            let modified = try #require(firstHead.first { $0.hasPrefix("Last-Modified: ") }?.dropFirst(15))
            // HTTP dates have whole seconds: the rewrite comes in a later one.
            usleep(1_100_000)
            try write("config v2 BBBB")
            #expect(try curl([url]).output == "config v2 BBBB")
            // The date a client holds no longer matches: the whole new file, not a 304.
            #expect(try statusCode(url, ["-H", "If-Modified-Since: \(modified)"]) == "200")
            let second = try curl(["-I", url]).output.split(separator: "\r\n").first { $0.hasPrefix("ETag") }
            #expect(first != nil && first != second)
            try write("config v1 AAAA")
            #expect(try server.stop().status == 0)
        }
    }

    @Test("If-Range with a Last-Modified of the current second is not trusted: the whole file, 200")
    func ifRangeWithAFreshDate() throws {
        let root = try site("httpd-if-range")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("0123456789abcdef".utf8).write(to: URL(fileURLWithPath: "\(root)/f.txt"))
        let server = try FileServer(root: root)
        let url = "\(server.base)/f.txt"
        let head = try curl(["-I", url]).output.split(separator: "\r\n")
        let modified = try #require(head.first { $0.hasPrefix("Last-Modified: ") }?.dropFirst(15))
        // Written just now: its date is a weak validator.
        #expect(try statusCode(url, ["-r", "10-", "-H", "If-Range: \(modified)"]) == "200")
        // Two seconds later the same date is strong. (An old modification time alone is not
        // enough: the change time, which cannot be set back, counts too.)
        sleep(2)
        #expect(try curl(["-r", "10-", "-H", "If-Range: \(modified)", url]).output == "abcdef")
    }

    @Test("with 64 descriptors, 80 different files in turn are all served: unused kept files are closed when descriptors run out")
    func descriptorsRunOut() throws {
        let root = try site("httpd-descriptors")
        defer { _ = try? run("rm", ["-rf", root]) }
        for index in 0..<80 { try Data("file \(index)".utf8).write(to: URL(fileURLWithPath: "\(root)/f\(index).txt")) }
        let server = try FileServer(root: root, prefix: ["prlimit", "--nofile=64", "--"])
        var served = 0
        for index in 0..<80 where try curl(["\(server.base)/f\(index).txt"]).output == "file \(index)" { served += 1 }
        #expect(served == 80)
        #expect(try server.stop().status == 0)
    }

    @Test("a served file that is deleted is closed at the next request: its space is freed")
    func deletedFilesAreClosed() throws {
        let root = try site("httpd-deleted")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data(repeating: 1, count: 100_000).write(to: URL(fileURLWithPath: "\(root)/big.bin"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(root)/small.txt"))
        let server = try FileServer(root: root)
        #expect(try curl(["-o", "/dev/null", "\(server.base)/big.bin"]).status == 0)
        func deletedOpen() -> Int {
            let folder = "/proc/\(server.process.pid)/fd"
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return entries.filter {
                ((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\($0)")) ?? "").hasSuffix("(deleted)")
            }.count
        }
        // And a file reached through a linked folder (`current -> releases/1`, unwatched):
        // its file is not kept at all.
        #expect(mkdir("\(root)/releases", 0o755) == 0 && mkdir("\(root)/releases/1", 0o755) == 0)
        try Data(repeating: 2, count: 100_000).write(to: URL(fileURLWithPath: "\(root)/releases/1/app.bin"))
        #expect(symlink("releases/1", "\(root)/current") == 0)
        #expect(try curl(["-o", "/dev/null", "\(server.base)/current/app.bin"]).status == 0)
        #expect(unlink("\(root)/releases/1/app.bin") == 0)
        #expect(unlink("\(root)/big.bin") == 0)
        #expect(try curl(["\(server.base)/small.txt"]).output == "x")
        var left = deletedOpen()
        for _ in 0..<200 where left > 0 {
            usleep(10_000)
            left = deletedOpen()
        }
        #expect(left == 0)
        #expect(try server.stop().status == 0)
    }

    @Test("--access-log to a pipe no one reads: the server goes on serving and stops at SIGTERM, counting what it could not write")
    func accessLogThatNoOneReads() throws {
        let root = try site("httpd-blocked-log")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("page".utf8).write(to: URL(fileURLWithPath: "\(root)/p.txt"))
        // Held open, never read: the pipe fills after 64 KiB of lines.
        let (server, port, reader) = try serveWithLogToPipe(root)
        defer { close(reader) }
        let client = try TestClient(port: port)
        // 2,000 responses: about 150 KiB of log lines, more than the pipe holds.
        for _ in 0..<2_000 { #expect(try fetch(client, "/p.txt").body == Array("page".utf8)) }
        #expect(try fetch(TestClient(port: port), "/p.txt").body == Array("page".utf8))
        server.signal(SIGTERM)
        let result = try server.wait()
        #expect(result.status == 0)
        #expect(result.error.contains("lines dropped"), "\(result.error)")
    }
}

extension HTTPConsistencyTests {
    @Test("--access-log to a pipe whose reader goes away: no SIGPIPE, the server goes on and counts the lines it lost")
    func accessLogReaderGoesAway() throws {
        let root = try site("httpd-log-epipe")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("page".utf8).write(to: URL(fileURLWithPath: "\(root)/p.txt"))
        let (server, port, reader) = try serveWithLogToPipe(root)
        let client = try TestClient(port: port)
        for _ in 0..<5 { #expect(try fetch(client, "/p.txt").body == Array("page".utf8)) }
        close(reader)  // the reader goes away: writes now fail with EPIPE
        for _ in 0..<200 { #expect(try fetch(client, "/p.txt").body == Array("page".utf8)) }
        server.signal(SIGTERM)
        let result = try server.wait()
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("lines dropped"), "\(result.error)")
    }

    @Test("with 64 descriptors, at most an eighth are kept open for files: the rest serve connections")
    func keptFilesLeaveDescriptorsForConnections() throws {
        let root = try site("httpd-kept-limit")
        defer { _ = try? run("rm", ["-rf", root]) }
        for index in 0..<40 { try Data("file \(index)".utf8).write(to: URL(fileURLWithPath: "\(root)/f\(index).txt")) }
        let server = try FileServer(root: root, prefix: ["prlimit", "--nofile=64", "--"])
        for index in 0..<40 { #expect(try curl(["\(server.base)/f\(index).txt"]).output == "file \(index)") }
        let folder = "/proc/\(server.process.pid)/fd"
        let absolute = try #require(
            realpath(root, nil).map { pointer in
                defer { free(pointer) }
                return String(cString: pointer)
            })
        let open = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\($0)")) ?? "").hasPrefix(absolute + "/")
        }
        #expect(open.count >= 1, "the kept files are seen")
        #expect(open.count <= 8, "\(open.count) files kept open")
        // Twenty connections at once still get their answers.
        var clients: [TestClient] = []
        for _ in 0..<20 { clients.append(try TestClient(port: server.port)) }
        for client in clients { #expect(try fetch(client, "/f1.txt").body == Array("file 1".utf8)) }
        #expect(try server.stop().status == 0)
    }
}

/// A shoal-httpd serving `root` with `--access-log` into a FIFO that the returned
/// descriptor holds open for reading (and never reads): the process, its port, the reader.
private func serveWithLogToPipe(_ root: String) throws -> (RunningProcess, UInt16, Int32) {
    let fifo = "\(root)/log.fifo"
    #expect(mkfifo(fifo, 0o600) == 0)
    let reader = open(fifo, O_RDONLY | O_NONBLOCK)
    #expect(reader >= 0)
    let binary = Strace.buildDirectory() + "/shoal-httpd"
    let server = try RunningProcess(
        executable: "/bin/sh", ["-c", "exec \"$0\" --root \"$1\" --port 0 --access-log > \"$2\"", binary, root, fifo],
        name: "shoal-httpd")
    // The address goes to the pipe too; find the port from the process's socket instead.
    var port: UInt16 = 0
    for _ in 0..<500 where port == 0 {
        usleep(10_000)
        port = listeningPort(of: server.pid) ?? 0
    }
    try #require(port != 0)
    return (server, port, reader)
}

/// The TCP port process `pid` listens on (from /proc/net/tcp and its descriptors).
private func listeningPort(of pid: Int32) -> UInt16? {
    let folder = "/proc/\(pid)/fd"
    let sockets = Set(
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\($0)")
        }.filter { $0.hasPrefix("socket:[") }.map { String($0.dropFirst(8).dropLast()) })
    guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return nil }
    for line in table.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ")
        // local_address is field 1 (ADDR:PORT in hex), st is field 3 (0A: LISTEN), inode field 9.
        guard fields.count > 9, fields[3] == "0A", sockets.contains(String(fields[9])) else { continue }
        return UInt16(fields[1].split(separator: ":")[1], radix: 16)
    }
    return nil
}
