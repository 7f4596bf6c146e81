import Foundation
import ShoalTestSupport
import Testing

@testable import ShoalHTTPD

#if canImport(Glibc)
import Glibc
#endif

@Suite("shoal-httpd's path cache and validators")
struct PathCacheTests {
    @Test("at the watch limit, a folder already watched is still accepted (no new watch); a new one is refused")
    func watchLimit() throws {
        let folder = try scratchPath("path-cache-watches")
        _ = try? run("rm", ["-rf", folder])
        #expect(mkdir(folder, 0o755) == 0)
        defer { _ = try? run("rm", ["-rf", folder]) }
        let cache = PathCache()
        for index in 0...PathCache.watchLimit {
            #expect(mkdir("\(folder)/d\(index)", 0o755) == 0)
        }
        for index in 0..<PathCache.watchLimit { #expect(cache.watch("\(folder)/d\(index)")) }
        #expect(cache.watch("\(folder)/d0"))
        #expect(cache.watch("\(folder)/d\(PathCache.watchLimit - 1)"))
        #expect(!cache.watch("\(folder)/d\(PathCache.watchLimit)"))
    }

    @Test("two files alike in size and times but not in inode get different ETags; the same file the same ETag")
    func etagsNameTheFile() {
        var first = stat()
        first.st_dev = 2049
        first.st_ino = 1_000
        first.st_size = 300_000
        first.st_mtim = timespec(tv_sec: 1_000, tv_nsec: 0)
        first.st_ctim = timespec(tv_sec: 1_767_225_600, tv_nsec: 123)
        var second = first
        second.st_ino = 1_001
        let a = FileResponse.Representation(FileIdentity(first), path: "/f.bin")
        let b = FileResponse.Representation(FileIdentity(second), path: "/f.bin")
        #expect(a.etag != b.etag)
        #expect(a.etag == FileResponse.Representation(FileIdentity(first), path: "/f.bin").etag)
        // Last-Modified is the later of the modification and change times.
        #expect(a.modifiedSeconds == 1_767_225_600)
    }
}
