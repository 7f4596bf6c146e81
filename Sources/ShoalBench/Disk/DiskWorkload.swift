import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// A disk workload, as fio names it.
enum DiskPattern: String, CaseIterable, Sendable {
    case randread, read, randwrite

    /// Block size in bytes.
    var blockSize: Int { self == .read ? 128 << 10 : 4 << 10 }

    var title: String {
        switch self {
        case .randread: "4 KiB random reads"
        case .read: "128 KiB sequential reads"
        case .randwrite: "4 KiB random writes"
        }
    }
}

/// What one run measured.
struct DiskResult: Sendable {
    let ios: Int
    let seconds: Double
    let cpuNanoseconds: Double
    /// The reactor's counters over the run (Shoal only).
    var stats: ReactorStats? = nil

    var iops: Double { Double(ios) / seconds }
    var cpuMicrosecondsPerIO: Double { ios > 0 ? cpuNanoseconds / 1e3 / Double(ios) : .nan }
}

/// Shoal's side of `shoal-bench disk`: one reactor, `depth` requests in flight.
struct ShoalDiskRun: Sendable {
    let path: String
    let size: Int
    let pattern: DiskPattern
    let depth: Int
    let seconds: Double

    func run() throws -> DiskResult {
        var configuration = Reactor.Configuration()
        configuration.maximumIOInFlight = max(depth, 1)
        let run = self
        return try runReactor(configuration: configuration) { reactor in try await run.measure(on: reactor) }
    }

    private func measure(on reactor: Reactor) async throws -> DiskResult {
        let mode: FileDescriptor.AccessMode = pattern == .randwrite ? .readWrite : .readOnly
        let file = try await File.open(FilePath(path), mode, directIO: .required, on: reactor)
        let deadline = Reactor.Instant.now.advanced(by: .nanoseconds(Int64(seconds * 1e9)))
        let cpuBefore = processCPUNanoseconds()
        let start = monotonicNanoseconds()
        let statsBefore = reactor.stats
        let ios: Int
        if pattern == .read {
            ios = try await sequential(file, until: deadline)
        } else {
            let blocks = size / pattern.blockSize
            ios = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<depth {
                    group.addTask { try await randomIO(file, blocks: blocks, worker: worker, until: deadline) }
                }
                return try await group.reduce(0, +)
            }
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        let cpu = Double(processCPUNanoseconds() - cpuBefore)
        let stats = reactor.stats.since(statsBefore)
        try await file.close()
        return DiskResult(ios: ios, seconds: elapsed, cpuNanoseconds: cpu, stats: stats)
    }

    /// One of `depth` tasks, each with one random read or write in flight.
    private func randomIO(_ file: File, blocks: Int, worker: Int, until deadline: Reactor.Instant) async throws -> Int {
        var buffer = file.makeBuffer(capacity: pattern.blockSize)
        if pattern == .randwrite {
            buffer.withUnsafeMutableBytes { bytes in
                for index in 0..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ worker) }
            }
            buffer.count = pattern.blockSize
        }
        var state = UInt64(worker &+ 1) &* 0x9e37_79b9_7f4a_7c15
        var ios = 0
        while Reactor.Instant.now < deadline {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let offset = Int64(Int(state >> 33) % blocks * pattern.blockSize)
            if pattern == .randwrite {
                buffer = try await file.write(buffer, at: offset)
            } else {
                buffer = try await file.read(at: offset, into: buffer)
            }
            ios += 1
        }
        return ios
    }

    /// Sequential reads with `depth` in flight (a ``FileReader``), from the start again
    /// at the end of the file.
    private func sequential(_ file: File, until deadline: Reactor.Instant) async throws -> Int {
        var ios = 0
        while Reactor.Instant.now < deadline {
            let reader = FileReader(file, chunkSize: pattern.blockSize, readAhead: depth)
            while Reactor.Instant.now < deadline, let chunk = try await reader.next() {
                ios += 1
                reader.recycle(chunk)
            }
            await reader.close()
        }
        return ios
    }
}
