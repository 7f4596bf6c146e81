import Foundation
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("shoal-httpd remembers where paths lead, and forgets at any change on disk")
struct HTTPFreshnessTests {
    @Test("renamed, deleted, created, replaced files and folders, index.html and retargeted links are all seen by the very next request")
    func changesAreSeenAtOnce() throws {
        let root = try site("httpd-fresh")
        defer { _ = try? run("rm", ["-rf", root]) }
        #expect(mkdir("\(root)/docs", 0o755) == 0)
        #expect(mkdir("\(root)/other", 0o755) == 0)
        func write(_ text: String, _ name: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(root)/\(name)"))
        }
        try write("one", "docs/page.txt")
        try write("index one", "docs/index.html")
        try write("other", "other/page.txt")
        #expect(symlink("docs", "\(root)/link") == 0)
        // Cache off: every byte is read from the file the path leads to now.
        for arguments in [["--cache-size", "0"], []] {
            let server = try FileServer(root: root, arguments)
            let base = server.base
            func body(_ path: String) throws -> String { try curl(["\(base)\(path)"]).output }
            func status(_ path: String) throws -> String { try statusCode("\(base)\(path)") }
            // Twice each, so the second answer comes from what was remembered.
            for _ in 0..<2 {
                #expect(try body("/docs/page.txt") == "one")
                #expect(try body("/docs/") == "index one")
                #expect(try body("/link/page.txt") == "one")
                #expect(try status("/docs/new.txt") == "404")
            }
            // A file renamed away, another renamed in its place.
            #expect(rename("\(root)/docs/page.txt", "\(root)/docs/old.txt") == 0)
            #expect(try status("/docs/page.txt") == "404")
            #expect(try body("/docs/old.txt") == "one")
            #expect(rename("\(root)/other/page.txt", "\(root)/docs/page.txt") == 0)
            #expect(try body("/docs/page.txt") == "other")
            // A new file; a deleted one.
            try write("new", "docs/new.txt")
            #expect(try body("/docs/new.txt") == "new")
            #expect(unlink("\(root)/docs/new.txt") == 0)
            #expect(try status("/docs/new.txt") == "404")
            // index.html replaced; the folder renamed; a link retargeted.
            try write("index two", "docs/index.html")
            #expect(try body("/docs/") == "index two")
            #expect(rename("\(root)/docs", "\(root)/moved") == 0)
            #expect(try status("/docs/page.txt") == "404")
            #expect(try body("/moved/page.txt") == "other")
            #expect(mkdir("\(root)/docs", 0o755) == 0)
            try write("three", "docs/page.txt")
            #expect(try body("/docs/page.txt") == "three")
            #expect(unlink("\(root)/link") == 0)
            #expect(symlink("moved", "\(root)/link") == 0)
            #expect(try body("/link/page.txt") == "other")
            // A write through a hard link from outside the root (no event in a watched
            // folder): seen at once, through the kept file's own status.
            let outside = root + "-outside"
            try Data("linked one".utf8).write(to: URL(fileURLWithPath: outside))
            #expect(link(outside, "\(root)/docs/linked.txt") == 0)
            #expect(try body("/docs/linked.txt") == "linked one")
            #expect(try body("/docs/linked.txt") == "linked one")
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outside))
            try handle.write(contentsOf: Data("linked two, longer".utf8))
            try handle.close()
            #expect(try body("/docs/linked.txt") == "linked two, longer")
            #expect(unlink(outside) == 0 && unlink("\(root)/docs/linked.txt") == 0)
            // Put everything back for the next server.
            _ = try run("rm", ["-rf", "\(root)/docs", "\(root)/link"])
            #expect(rename("\(root)/moved", "\(root)/docs") == 0)
            #expect(rename("\(root)/docs/page.txt", "\(root)/other/page.txt") == 0)
            #expect(rename("\(root)/docs/old.txt", "\(root)/docs/page.txt") == 0)
            try write("index one", "docs/index.html")
            #expect(symlink("docs", "\(root)/link") == 0)
            #expect(try server.stop().status == 0)
        }
    }
}
