import Foundation
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A running `shoal-httpd` on an ephemeral port, serving `root`.
final class FileServer {
    let process: RunningProcess
    let port: UInt16
    let base: String

    init(root: String, _ arguments: [String] = [], prefix: [String] = []) throws {
        process = try RunningProcess(built: "shoal-httpd", ["--root", root, "--port", "0"] + arguments, prefix: prefix)
        try process.waitForOutput(containing: "\n")
        let line = process.output.split(separator: "\n")[0]
        guard let url = line.split(separator: " ").last, let port = UInt16(url.split(separator: ":").last?.dropLast() ?? "") else {
            process.kill()
            throw ProcessFailure("unexpected first line: \(line)")
        }
        self.port = port
        base = "http://127.0.0.1:\(port)"
    }

    deinit { process.kill() }

    func stop() throws -> ProcessResult {
        process.signal(SIGTERM)
        return try process.wait()
    }
}

/// A folder of files for one test.
func site(_ name: String) throws -> String {
    let folder = try scratchPath(name)
    _ = try? run("rm", ["-rf", folder])
    #expect(mkdir(folder, 0o755) == 0)
    return folder
}

/// `curl -s` with `arguments`; the output as bytes.
func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let result = try run("curl", ["-s", "--max-time", "30"] + arguments)
    return (result.status, result.output)
}

/// The status code of `url` (with extra curl `arguments`).
func statusCode(_ url: String, _ arguments: [String] = []) throws -> String {
    try curl(["-o", "/dev/null", "-w", "%{http_code}", "--path-as-is"] + arguments + [url]).output
}

/// One HTTP/1.1 exchange on a raw connection: sends `GET path`, reads the head and a
/// `Content-Length` body. Returns the head and the body.
func fetch(_ client: TestClient, _ path: String) throws -> (head: String, body: [UInt8]) {
    try client.send(Array("GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n".utf8))
    let head = try fetchHead(client)
    guard head.suffix(4).elementsEqual("\r\n\r\n".utf8) else {
        throw ProcessFailure("the connection ended in a response head: \(String(decoding: head, as: UTF8.self))")
    }
    let text = String(decoding: head, as: UTF8.self)
    let length =
        text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length: ") }
        .flatMap { Int($0.dropFirst(16)) } ?? 0
    let body = try client.receive(count: length)
    guard body.count == length else { throw ProcessFailure("the connection ended after \(body.count) of \(length) body bytes") }
    return (text, body)
}

/// Reads a response head (through the blank line) from `client`; shorter if the
/// connection ends first.
func fetchHead(_ client: TestClient) throws -> [UInt8] {
    var head: [UInt8] = []
    while !head.suffix(4).elementsEqual("\r\n\r\n".utf8) {
        let byte = try client.receive(count: 1)
        guard !byte.isEmpty else { break }
        head += byte
    }
    return head
}
