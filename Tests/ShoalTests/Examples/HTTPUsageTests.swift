import Foundation
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("shoal-httpd: bad arguments and roots are refused with one clear line")
struct HTTPUsageTests {
    @Test("bad options exit 64 naming the option; a root that is not a readable directory exits 66; a port in use exits 1")
    func refusals() throws {
        let binary = Strace.buildDirectory() + "/shoal-httpd"
        let root = try site("httpd-usage")
        defer { _ = try? run("rm", ["-rf", root]) }
        let cases: [([String], String)] = [
            (["--port", "70000"], "--port"),
            (["--cache-size", "+5"], "--cache-size"),
            (["--cache-size", "12X"], "--cache-size"),
            (["--cache-size", "-1"], "--cache-size must be a number of bytes"),
            (["--idle-timeout", "0"], "--idle-timeout"),
            (["--header-timeout", "nan"], "--header-timeout"),
            (["--max-connections", "0"], "--max-connections"),
            (["--grace-period", "-1"], "--grace-period"),
        ]
        for (arguments, named) in cases {
            let result = try run(binary, ["--root", root] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.error)")
            #expect(result.error.contains(named), "\(arguments): \(result.error)")
        }
        let file = "\(root)/file.txt"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        for missing in [file, "\(root)/missing"] {
            let result = try run(binary, ["--root", missing, "--port", "0"])
            #expect(result.status == 66, "\(result.error)")
            #expect(result.error.contains("not a readable directory"), "\(result.error)")
        }
        let server = try FileServer(root: root)
        let taken = try run(binary, ["--root", root, "--port", String(server.port)])
        #expect(taken.status == 1, "\(taken.error)")
        #expect(taken.error.contains("Address already in use"), "\(taken.error)")
    }
}
