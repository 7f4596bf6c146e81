@testable import Shoal
import ShoalKernel
import ShoalTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("FileReader and FileWriter: sequential I/O with several requests in flight")
struct FileStreamTests {
    @Test("a reader returns the whole file in order, in bounded memory", arguments: [0, 1, 4_095, 4_096, 4_097, (1 << 20) + 123])
    func readerReadsEverything(size: Int) async throws {
        let path = try scratchPath("reader")
        defer { unlink(path) }
        try writePatternFile(path, size: size)
        let (bytes, maximumInFlight) = try await runReactor { reactor -> ([UInt8], Int) in
            let file = try await File.open(FilePath(path), on: reactor)
            let reader = FileReader(file, chunkSize: 64 << 10, readAhead: 3)
            var bytes: [UInt8] = []
            var maximumInFlight = 0
            while let chunk = try await reader.next() {
                maximumInFlight = max(maximumInFlight, reactor.io.busy)
                bytes += chunk.bytes
                reader.recycle(chunk)
            }
            #expect(try await reader.next() == nil)
            await reader.close()
            try await file.close()
            return (bytes, maximumInFlight)
        }
        #expect(bytes.count == size)
        #expect(bytes == pattern(0..<size))
        #expect(maximumInFlight <= 3)
    }

    @Test("a writer writes pieces of any size; the file has exactly the bytes written", arguments: [0, 1, 4_095, 4_097, (3 << 20) + 5])
    func writerWritesEverything(size: Int) async throws {
        let path = try scratchPath("writer")
        defer { unlink(path) }
        let expected = pattern(0..<size)
        let (length, onDisk) = try await runReactor { reactor -> (Int64, [UInt8]) in
            let file = try await File.open(FilePath(path), .readWrite, options: [.create, .truncate], on: reactor)
            let writer = FileWriter(file, chunkSize: 64 << 10, writeBehind: 2)
            var offset = 0
            var piece = 1
            while offset < size {
                let end = min(size, offset + piece)
                try await writer.write(expected[offset..<end])
                offset = end
                piece = piece * 3 + 7
            }
            let length = try await writer.finish()
            let onDisk = try await file.read(at: 0, count: size + 4_096).bytes
            try await file.close()
            return (length, onDisk)
        }
        #expect(length == Int64(size))
        #expect(onDisk == expected)
    }

    @Test("a reader's chunks go straight into a writer: a copy")
    func readerIntoWriter() async throws {
        let source = try scratchPath("copy-from")
        let destination = try scratchPath("copy-to")
        defer { unlink(source); unlink(destination) }
        let size = (2 << 20) + 4_097
        try writePatternFile(source, size: size)
        let copied = try await runReactor { reactor -> [UInt8] in
            let input = try await File.open(FilePath(source), on: reactor)
            let output = try await File.open(FilePath(destination), .readWrite, options: [.create, .truncate], on: reactor)
            let reader = FileReader(input)
            let writer = FileWriter(output)
            while let chunk = try await reader.next() { try await writer.write(chunk) }
            try await writer.finish()
            let copied = try await output.read(at: 0, count: size + 1).bytes
            try await input.close()
            try await output.close()
            return copied
        }
        #expect(copied == pattern(0..<size))
    }
}
