import Foundation
import Shoal
import ShoalTestSupport
import SystemPackage
import Testing

@testable import ShoalHTTPD

#if canImport(Glibc)
import Glibc
#endif

@Suite("shoal-httpd's open-file cache")
struct FileCacheTests {
    @Test("a file replaced in the cache while two responses use it stays open until the last of them gives it back")
    func replacedWhileInUse() async throws {
        let path = try scratchPath("file-cache-replaced")
        defer { unlink(path) }
        try Data(repeating: 7, count: 8_192).write(to: URL(fileURLWithPath: path))
        var status = stat()
        #expect(stat(path, &status) == 0)
        let identity = FileIdentity(status)
        try await Reactor.run { reactor in
            let cache = FileCache(capacity: 0, reactor: reactor)
            let open: @Sendable () async throws -> File = { try await File.open(FilePath(path), on: reactor) }
            // B misses and is still opening when A opens, keeps, and C finds A's file.
            let (gate, release) = AsyncStream<Void>.makeStream()
            let b = Task(executorPreference: reactor) {
                try await cache.acquire(path, identity: identity) {
                    for await _ in gate { break }
                    return try await open()
                }
            }
            await Task.yield()
            let a = try await cache.acquire(path, identity: identity, open: open)
            let c = try await cache.acquire(path, identity: identity, open: open)
            #expect(a.file === c.file)
            release.yield()
            let bLease = try await b.value
            #expect(bLease.file !== a.file)
            // A is done: C still reads its file.
            cache.release(a)
            for _ in 0..<100 { await Task.yield() }
            #expect(try await c.file.read(at: 0, count: 4_096).count == 4_096)
            // C is done: the replaced file closes; the kept one stays open.
            cache.release(c)
            var closed = false
            for _ in 0..<1_000 where !closed {
                await Task.yield()
                closed = (try? await c.file.read(at: 0, count: 4_096)) == nil
            }
            #expect(closed)
            #expect(try await bLease.file.read(at: 0, count: 4_096).count == 4_096)
            cache.release(bLease)
            await cache.closeAll()
        }
    }
}
