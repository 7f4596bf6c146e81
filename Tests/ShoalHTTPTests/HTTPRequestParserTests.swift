import HTTPTypes
import ShoalHTTP
import Testing

/// Parses `text` in one piece with a fresh parser.
private func parse(_ text: String, parser: HTTPRequestParser = HTTPRequestParser()) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
    var parser = parser
    return try feed(&parser, Array(text.utf8))
}

/// Parses `bytes` with `parser`.
private func feed(_ parser: inout HTTPRequestParser, _ bytes: [UInt8]) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
    defer { copy.deallocate() }
    copy.copyBytes(from: bytes)
    return try parser.parse(UnsafeRawBufferPointer(copy))
}

/// The status a malformed `text` is refused with, or nil when it parses or needs more.
private func refusal(_ text: String, parser: HTTPRequestParser = HTTPRequestParser()) -> (Int, String)? {
    do {
        _ = try parse(text, parser: parser)
        return nil
    } catch {
        return (error.status.code, error.reason)
    }
}

@Suite("HTTP request parser: strict HTTP/1.1 heads")
struct HTTPRequestParserTests {
    @Test("a GET with Host: method, path, authority, fields, keep-alive, and the bytes used")
    func simpleGet() throws {
        let text = "GET /docs/index.html?x=1 HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\n\r\n"
        let (head, used) = try #require(try parse(text))
        #expect(head.request.method == .get)
        #expect(head.request.path == "/docs/index.html?x=1")
        #expect(head.request.authority == "example.test:8080")
        #expect(head.request.headerFields[.accept] == "*/*")
        #expect(head.version == .http1_1)
        #expect(head.keepAlive)
        #expect(head.contentLength == 0)
        #expect(used == text.utf8.count)
    }

    @Test("pipelined requests parse one after the other from the bytes left")
    func pipelined() throws {
        let first = "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n"
        let second = "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        let bytes = Array((first + second).utf8)
        var parser = HTTPRequestParser()
        let (a, usedA) = try #require(try feed(&parser, bytes))
        #expect(a.request.method == .head && a.request.path == "/a" && usedA == first.utf8.count)
        let rest = Array(bytes[usedA...])
        let (b, usedB) = try #require(try feed(&parser, rest))
        #expect(b.request.path == "/b" && !b.keepAlive && usedB == second.utf8.count)
    }

    @Test("byte at a time: nil until the last byte, then the same head as in one piece")
    func byteAtATime() throws {
        let text = "GET /slow HTTP/1.1\r\nHost: h\r\nX-Long: " + String(repeating: "v", count: 3_000) + "\r\n\r\n"
        let bytes = Array(text.utf8)
        var parser = HTTPRequestParser()
        var result: (HTTPRequestHead, Int)?
        for end in 1...bytes.count {
            result = try feed(&parser, Array(bytes[0..<end]))
            if end < bytes.count { #expect(result == nil, "complete after \(end) of \(bytes.count) bytes") }
        }
        let (head, used) = try #require(result)
        #expect(head.request.path == "/slow" && used == bytes.count)
        #expect(head.request.headerFields[HTTPField.Name("X-Long")!]?.count == 3_000)
    }

    @Test("HTTP/1.0 closes unless keep-alive; Connection tokens are case-insensitive; empty lines before a request are skipped")
    func persistence() throws {
        #expect(try #require(try parse("GET / HTTP/1.0\r\n\r\n")).0.keepAlive == false)
        #expect(try #require(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")).0.keepAlive)
        #expect(try #require(try parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n")).0.keepAlive == false)
        let (head, used) = try #require(try parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(head.request.path == "/" && used == 31)
    }

    @Test("Content-Length gives the body's length; repeated equal values are one; absolute-form targets give the authority")
    func lengthsAndTargets() throws {
        #expect(try #require(try parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n")).0.contentLength == 12)
        #expect(try #require(try parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n")).0.contentLength == 5)
        let (head, _) = try #require(try parse("GET http://other.test/x/y HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(head.request.authority == "other.test" && head.request.path == "/x/y")
        #expect(try #require(try parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")).0.request.path == "*")
    }

    @Test(
        "an incomplete head asks for more",
        arguments: [
            "", "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\nHost: h\r\n", "GET / HTTP/1.1\r\nHost: h\r\n\r",
        ])
    func incomplete(text: String) throws {
        #expect(try parse(text) == nil)
    }

    @Test(
        "malformed heads are refused with 400 and a reason",
        arguments: [
            ("GET / HTTP/1.1\nHost: h\n\n", "bare LF"),
            ("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", "bare CR"),
            ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "single spaces"),
            ("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", "single spaces"),
            ("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", "invalid method"),
            ("GET / http/1.1\r\nHost: h\r\n\r\n", "invalid HTTP version"),
            ("GET / HTTP/1.10\r\nHost: h\r\n\r\n", "invalid HTTP version"),
            ("GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", "must start with /"),
            ("GET * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS only"),
            ("GET / HTTP/1.1\r\n\r\n", "without Host"),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "more than one Host"),
            ("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "invalid Host"),
            ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", "whitespace before the colon"),
            ("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "folded"),
            ("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", "without a colon"),
            ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{01}b\r\n\r\n", "control character"),
            ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", "invalid Content-Length"),
            ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
            ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", "invalid Content-Length"),
            ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "differ"),
            ("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "both"),
        ])
    func malformed(text: String, reason: String) {
        let outcome = refusal(text)
        #expect(outcome?.0 == 400, "\(text.debugDescription): \(String(describing: outcome))")
        #expect(outcome?.1.contains(reason) == true, "\(text.debugDescription): \(String(describing: outcome))")
    }

    @Test("limits and unsupported features get their own statuses: 414, 431, 501, 505")
    func otherStatuses() {
        let small = HTTPRequestParser(maximumRequestLine: 64, maximumHeadSize: 256, maximumFieldCount: 4)
        #expect(refusal("GET /" + String(repeating: "a", count: 100), parser: small)?.0 == 414)
        #expect(refusal("GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: h\r\n\r\n", parser: small)?.0 == 414)
        #expect(refusal("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "v", count: 300), parser: small)?.0 == 431)
        let manyFields = (0..<5).map { "X-\($0): v\r\n" }.joined()
        #expect(refusal("GET / HTTP/1.1\r\nHost: h\r\n" + manyFields + "\r\n", parser: small)?.0 == 431)
        #expect(refusal("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")?.0 == 501)
        // A complete head past the limit, handed over in one piece, is refused too.
        #expect(refusal("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "v", count: 300) + "\r\n\r\n", parser: small)?.0 == 431)
        #expect(refusal("GET / HTTP/2.0\r\nHost: h\r\n\r\n")?.0 == 505)
    }

    @Test("a response head: status line, fields in order, the empty line")
    func responseHead() {
        var response = HTTPResponse(status: .ok)
        response.headerFields[.contentLength] = "5"
        response.headerFields[.contentType] = "text/plain"
        let text = String(decoding: response.serializedHead(), as: UTF8.self)
        #expect(text == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n")
        let old = String(decoding: HTTPResponse(status: .notFound).serializedHead(version: .http1_0), as: UTF8.self)
        #expect(old == "HTTP/1.0 404 Not Found\r\n\r\n")
    }

    @Test("10,000 mutated requests: every one parses, asks for more, or is refused; none traps or overreads")
    func mutations() throws {
        let base = Array("GET /a/b?c=d HTTP/1.1\r\nHost: example.test\r\nContent-Length: 3\r\nX-A: b\r\n\r\n".utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var outcomes = (parsed: 0, more: 0, refused: 0)
        for _ in 0..<10_000 {
            var bytes = base
            for _ in 0..<(1 + Int(next() % 4)) {
                let position = Int(next() % UInt64(bytes.count))
                switch next() % 3 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: next())
                case 1: bytes.remove(at: position)
                default: bytes.insert(UInt8(truncatingIfNeeded: next()), at: position)
                }
            }
            var parser = HTTPRequestParser()
            do {
                if let (_, used) = try feed(&parser, bytes) {
                    #expect(used <= bytes.count)
                    outcomes.parsed += 1
                } else {
                    outcomes.more += 1
                }
            } catch {
                #expect([400, 414, 431, 501, 505].contains(error.status.code))
                outcomes.refused += 1
            }
        }
        #expect(outcomes.parsed > 0 && outcomes.refused > 0)
    }
}
