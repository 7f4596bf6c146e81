import Foundation
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("shoal-httpd: the built server, with curl and raw sockets")
struct HTTPToolTests {
    @Test("bodies equal the files byte for byte: 0, 1, 4095, 4097 bytes and 3 MiB; HEAD sends the head only")
    func bodies() throws {
        let root = try site("httpd-bodies")
        defer { _ = try? run("rm", ["-rf", root]) }
        for size in [0, 1, 4_095, 4_097, 3 << 20] {
            try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }).write(
                to: URL(fileURLWithPath: "\(root)/f\(size).bin"))
        }
        let server = try FileServer(root: root)
        for size in [0, 1, 4_095, 4_097, 3 << 20] {
            let copy = "\(root)/copy"
            #expect(try curl(["-o", copy, "\(server.base)/f\(size).bin"]).status == 0)
            #expect(try run("cmp", ["\(root)/f\(size).bin", copy]).status == 0, "size \(size)")
        }
        let head = try curl(["-I", "\(server.base)/f4097.bin"]).output
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(head.contains("Content-Length: 4097\r\n"))
        #expect(head.contains("Content-Type: application/octet-stream\r\n"))
        #expect(head.contains("Accept-Ranges: bytes\r\n"))
        #expect(head.contains("Date: ") && head.contains(" GMT\r\n"))
        #expect(try server.stop().status == 0)
    }

    @Test("ranges: 206 with Content-Range, suffix and open ranges, 416 past the end, If-Range that no longer matches gives 200")
    func ranges() throws {
        let root = try site("httpd-ranges")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: "\(root)/digits.txt"))
        let server = try FileServer(root: root)
        let url = "\(server.base)/digits.txt"
        #expect(try curl(["-r", "2-4", url]).output == "234")
        #expect(try curl(["-r", "-3", url]).output == "789")
        #expect(try curl(["-r", "7-", url]).output == "789")
        #expect(try curl(["-r", "5-100", url]).output == "56789")
        let partial = try curl(["-i", "-r", "2-4", url]).output
        #expect(partial.hasPrefix("HTTP/1.1 206 Partial Content"))
        #expect(partial.contains("Content-Range: bytes 2-4/10\r\n"))
        let refused = try curl(["-i", "-r", "10-20", url]).output
        #expect(refused.hasPrefix("HTTP/1.1 416"))
        #expect(refused.contains("Content-Range: bytes */10\r\n"))
        #expect(try curl(["-r", "2-4", "-H", "If-Range: \"stale\"", url]).output == "0123456789")
        let etag = try #require(try curl(["-I", url]).output.split(separator: "\r\n").first { $0.hasPrefix("ETag: ") }?.dropFirst(6))
        #expect(try curl(["-r", "2-4", "-H", "If-Range: \(etag)", url]).output == "234")
    }

    @Test("304 for If-None-Match and If-Modified-Since; a file changed on disk is served fresh")
    func validators() throws {
        let root = try site("httpd-validators")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("first".utf8).write(to: URL(fileURLWithPath: "\(root)/page.html"))
        let server = try FileServer(root: root)
        let url = "\(server.base)/page.html"
        let head = try curl(["-I", url]).output.split(separator: "\r\n")
        let etag = try #require(head.first { $0.hasPrefix("ETag: ") }?.dropFirst(6))
        let modified = try #require(head.first { $0.hasPrefix("Last-Modified: ") }?.dropFirst(15))
        #expect(head.contains("Content-Type: text/html; charset=utf-8"))
        #expect(try statusCode(url, ["-H", "If-None-Match: \(etag)"]) == "304")
        #expect(try statusCode(url, ["-H", "If-None-Match: \"other\", W/\(etag)"]) == "304")
        #expect(try statusCode(url, ["-H", "If-Modified-Since: \(modified)"]) == "304")
        #expect(try statusCode(url, ["-H", "If-None-Match: \"other\""]) == "200")
        #expect(try statusCode(url, ["-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"]) == "200")
        // Change the file: new bytes, new validators.
        usleep(20_000)
        try Data("second version".utf8).write(to: URL(fileURLWithPath: "\(root)/page.html"))
        #expect(try curl([url]).output == "second version")
        #expect(try statusCode(url, ["-H", "If-None-Match: \(etag)"]) == "200")
    }

    @Test("404 for missing files and every way out of the root; a directory serves its index.html; other methods 405 or 501")
    func safety() throws {
        let root = try site("httpd-safety")
        let outside = try site("httpd-outside")
        defer { _ = try? run("rm", ["-rf", root, outside]) }
        try Data("secret".utf8).write(to: URL(fileURLWithPath: "\(outside)/secret.txt"))
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: "\(root)/.env"))
        #expect(mkdir("\(root)/sub", 0o755) == 0)
        try Data("index".utf8).write(to: URL(fileURLWithPath: "\(root)/sub/index.html"))
        #expect(symlink("\(outside)/secret.txt", "\(root)/link.txt") == 0)
        #expect(symlink(outside, "\(root)/linkdir") == 0)
        let server = try FileServer(root: root)
        let base = server.base
        #expect(try curl(["\(base)/sub/"]).output == "index")
        #expect(try curl(["-L", "\(base)/sub"]).output == "index")  // a 301 to /sub/ first
        for path in [
            "/missing", "/../httpd-outside/secret.txt", "/%2e%2e/httpd-outside/secret.txt", "/sub/../../httpd-outside/secret.txt",
            "/link.txt", "/linkdir/secret.txt", "/.env", "/%2E%2E%2Fhttpd-outside/secret.txt",
        ] {
            let code = try statusCode(base + path)
            #expect(code == "404" || code == "400", "\(path): \(code)")
        }
        #expect(try statusCode(base + "/a%2Fb") == "400")
        #expect(try statusCode(base + "/a%zz") == "400")
        #expect(try statusCode(base + "/sub/", ["-X", "POST"]) == "405")
        #expect(try statusCode(base + "/sub/", ["-X", "BREW"]) == "501")
        #expect(try server.stop().status == 0)
    }

    @Test("pipelined requests on one connection are answered in order; keep-alive reuses it; malformed gets 400 and the close")
    func pipeliningAndMalformed() throws {
        let root = try site("httpd-pipeline")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("A".utf8).write(to: URL(fileURLWithPath: "\(root)/a"))
        try Data("BB".utf8).write(to: URL(fileURLWithPath: "\(root)/b"))
        let server = try FileServer(root: root)
        let client = try TestClient(port: server.port)
        try client.send(
            Array(
                "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nHEAD /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .utf8))
        let text = String(decoding: try client.receiveAll(), as: UTF8.self)
        // Bodies have no line ends: the next status line follows a body directly.
        let expected = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        #expect(text.components(separatedBy: expected).count == 4, "\(text)")
        #expect(text.contains("\r\n\r\nAHTTP/1.1 200 OK") && text.contains("\r\n\r\nBBHTTP/1.1 200 OK"), "\(text)")
        #expect(text.hasSuffix("\r\n\r\n"), "HEAD sent a body: \(text)")
        // curl fetching twice on one connection reuses it.
        let twice = try run("curl", ["-sv", "\(server.base)/a", "\(server.base)/b"])
        #expect(twice.output == "ABB")
        #expect(twice.error.contains("Re-using existing connection") || twice.error.contains("Reusing existing"), "\(twice.error)")
        let bad = try TestClient(port: server.port)
        try bad.send(Array("GET / HTTP/1.1\nHost: x\n\n".utf8))
        let answer = String(decoding: try bad.receiveAll(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(answer)")
        #expect(answer.contains("Connection: close"))
    }

    @Test("a client that sends its head one byte a second is cut off by the header timeout while others are served")
    func slowHeaders() throws {
        let root = try site("httpd-slow")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("ok".utf8).write(to: URL(fileURLWithPath: "\(root)/ok"))
        let server = try FileServer(root: root, ["--header-timeout", "1"])
        let slow = try TestClient(port: server.port)
        let request = Array("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let dripper = ThreadForTest {
            for byte in request {
                guard (try? slow.send([byte])) != nil else { return }
                sleep(1)
            }
        }
        for _ in 0..<3 { #expect(try curl(["\(server.base)/ok"]).output == "ok") }
        let answer = String(decoding: try slow.receiveAll(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        slow.close()
        dripper.join()
    }

    @Test("review: hidden files through links, /file/ and directories without a slash, 412, HTTP/1.0, open failures, a body")
    func reviewFindings() throws {
        let root = try site("httpd-review")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("dotfile".utf8).write(to: URL(fileURLWithPath: "\(root)/.env"))
        #expect(symlink(".env", "\(root)/alias.txt") == 0)
        #expect(mkdir("\(root)/.hidden", 0o755) == 0)
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: "\(root)/.hidden/x.txt"))
        #expect(symlink(".hidden", "\(root)/pub") == 0)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: "\(root)/hello.txt"))
        #expect(mkdir("\(root)/sub", 0o755) == 0)
        try Data("index".utf8).write(to: URL(fileURLWithPath: "\(root)/sub/index.html"))
        #expect(mkfifo("\(root)/fifo", 0o644) == 0)
        let server = try FileServer(root: root)
        let base = server.base
        #expect(try statusCode(base + "/alias.txt") == "404")
        #expect(try statusCode(base + "/pub/x.txt") == "404")
        #expect(try statusCode(base + "/hello.txt/") == "404")
        #expect(try statusCode(base + "/fifo") == "404")
        let redirect = try curl(["-i", base + "/sub"]).output
        #expect(redirect.hasPrefix("HTTP/1.1 301"), "\(redirect)")
        #expect(redirect.contains("Location: /sub/\r\n"), "\(redirect)")
        // One leading slash (`//sub/` would name a host), and the query kept.
        let doubled = try curl(["-i", "--path-as-is", base + "//sub?q=1"]).output
        #expect(doubled.contains("Location: /sub/?q=1\r\n"), "\(doubled)")
        #expect(try statusCode(base + "/hello.txt", ["-H", "If-Match: \"nope\""]) == "412")
        #expect(try statusCode(base + "/hello.txt", ["-H", "If-Match: *"]) == "200")
        #expect(try statusCode(base + "/hello.txt", ["-H", "If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT"]) == "412")
        // HTTP/1.0 with keep-alive: answered as HTTP/1.1, saying keep-alive.
        let old = try TestClient(port: server.port)
        try old.send(Array("GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
        let answer = String(decoding: try fetchHead(old), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(answer)")
        #expect(answer.contains("Connection: keep-alive\r\n"), "\(answer)")
        // A request with a body is answered at once, then the connection closes.
        let withBody = try TestClient(port: server.port)
        try withBody.send(Array("GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n".utf8))
        let reply = String(decoding: try withBody.receiveAll(), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n") && reply.contains("Connection: close\r\n") && reply.hasSuffix("hello"), "\(reply)")
    }

    @Test("review: a file that cannot be opened gets 403 and the pipelined request after it is served")
    func unreadableFile() throws {
        let root = try site("httpd-unreadable")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("secret".utf8).write(to: URL(fileURLWithPath: "\(root)/locked.txt"))
        try Data("hello".utf8).write(to: URL(fileURLWithPath: "\(root)/hello.txt"))
        #expect(chmod("\(root)/locked.txt", 0o000) == 0)
        #expect(chmod(root, 0o755) == 0)
        // As root, permissions do not apply: run the server as nobody.
        let server = try FileServer(
            root: root, prefix: geteuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : [])
        let client = try TestClient(port: server.port)
        try client.send(
            Array("GET /locked.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        let text = String(decoding: try client.receiveAll(), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(text)")
        #expect(text.hasSuffix("hello"), "\(text)")
    }

    @Test("a download in flight at SIGTERM completes within the grace period; then the server exits 0")
    func downloadDuringSignal() throws {
        let root = try site("httpd-download-drain")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data((0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 >> 3) }).write(to: URL(fileURLWithPath: "\(root)/big.bin"))
        let server = try FileServer(root: root, ["--grace-period", "60"])
        let download = try RunningProcess(
            executable: try #require(Strace.executable(named: "curl")),
            ["-s", "--limit-rate", "4M", "-o", "\(root)/copy.bin", "\(server.base)/big.bin"], name: "curl")
        usleep(500_000)  // under way: about a quarter is through
        server.process.signal(SIGTERM)
        #expect(try download.wait(timeout: .seconds(60)).status == 0)
        #expect(try run("cmp", ["\(root)/big.bin", "\(root)/copy.bin"]).status == 0)
        #expect(try server.process.wait().status == 0)
    }

    @Test("after SIGTERM, an idle kept-alive connection is closed at once and the server exits long before the grace period")
    func idleConnectionsEndAtSignal() throws {
        let root = try site("httpd-idle-drain")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data("hello".utf8).write(to: URL(fileURLWithPath: "\(root)/hello.txt"))
        let server = try FileServer(root: root, ["--grace-period", "600"])
        let client = try TestClient(port: server.port)
        try client.send(Array("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let first = String(decoding: try client.receive(count: 5), as: UTF8.self)
        #expect(first == "HTTP/")
        server.process.signal(SIGTERM)
        // The connection ends (the rest of the response, then the end of the stream).
        let rest = String(decoding: try client.receiveAll(), as: UTF8.self)
        #expect(rest.hasSuffix("hello"))
        // A 600 s grace period: only closing the idle connection lets it exit in time.
        let result = try server.process.wait(timeout: .seconds(60))
        #expect(result.status == 0)
    }

    @Test(
        "the block cache: a second fetch hits, ranges across blocks come out right, a rewritten file is fresh; --cache-size 0 serves the same bytes"
    )
    func blockCache() throws {
        let root = try site("httpd-cache")
        defer { _ = try? run("rm", ["-rf", root]) }
        let bytes = (0..<(300 * 1024 + 123)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 8) }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/data.bin"))
        for arguments in [[], ["--cache-size", "0"]] {
            let server = try FileServer(root: root, arguments)
            let url = "\(server.base)/data.bin"
            // A range first (cold), then the whole file twice, then ranges across block edges.
            #expect(try curl(["-r", "65530-65545", url]).output == String(decoding: bytes[65530...65545], as: UTF8.self))
            for _ in 0..<2 {
                #expect(try curl(["-o", "\(root)/copy.bin", url]).status == 0)
                #expect(try run("cmp", ["\(root)/data.bin", "\(root)/copy.bin"]).status == 0)
            }
            #expect(try curl(["-r", "131000-200000", "-o", "\(root)/part.bin", url]).status == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(root)/part.bin")) == Data(bytes[131000...200000]))
            #expect(try curl(["-r", "-100", "-o", "\(root)/tail.bin", url]).status == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(root)/tail.bin")) == Data(bytes.suffix(100)))
            let summary = try server.stop().error
            let hits = summary.split(separator: "cache hits ").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? -1
            if arguments.isEmpty {
                #expect(hits >= 5, "\(summary)")
            } else {
                #expect(hits == 0, "\(summary)")
            }
        }
        // Rewritten in place (same size, new bytes): served fresh, never from the cache.
        let server = try FileServer(root: root)
        #expect(try curl(["-o", "/dev/null", "\(server.base)/data.bin"]).status == 0)
        usleep(20_000)
        let changed = bytes.map { $0 ^ 0xFF }
        try Data(changed).write(to: URL(fileURLWithPath: "\(root)/data.bin"))
        #expect(try curl(["-o", "\(root)/copy.bin", "\(server.base)/data.bin"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(root)/copy.bin")) == Data(changed))
    }
}
