import Shoal
import ShoalKernel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs the ticket's workload on a fresh reactor.
struct TicketWorkload: Sendable {
    let path: String
    let blocks: Int
    let seconds: Double
    let depth: Int
    let compute: Int
    let direct: Bool

    func run(forcingSystemCall: Bool) throws -> TicketResult {
        var configuration = Reactor.Configuration()
        configuration.forcesSystemCallReap = forcingSystemCall
        configuration.maximumIOInFlight = max(depth, 1)
        let workload = self
        return try runReactor(configuration: configuration) { reactor in
            try await workload.measure(on: reactor)
        }
    }

    private func measure(on reactor: Reactor) async throws -> TicketResult {
        let options: FileCalls.OpenOptions = direct ? [.readOnly, .direct] : .readOnly
        let descriptor = try FileCalls.open(FilePath(path), options: options)
        let fd = descriptor.descriptor
        let deadline = Reactor.Instant.now.advanced(by: .nanoseconds(Int64(seconds * 1e9)))
        let before = reactor.stats
        let cpuBefore = processCPUNanoseconds()
        let start = monotonicNanoseconds()
        let (reads, units, checksum) = try await withThrowingTaskGroup(of: (Int, Int, UInt64).self) { group in
            for worker in 0..<depth {
                group.addTask { try await readAndHash(fd: fd, worker: worker, until: deadline, reactor: reactor) }
            }
            for _ in 0..<compute {
                group.addTask { await hashLoop(until: deadline, reactor: reactor) }
            }
            return try await group.reduce(into: (0, 0, UInt64(0))) { total, part in
                total = (total.0 + part.0, total.1 + part.1, total.2 ^ part.2)
            }
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        _ = descriptor
        return TicketResult(
            reads: reads, computeUnits: units, seconds: elapsed,
            cpuNanoseconds: processCPUNanoseconds() - cpuBefore, stats: reactor.stats.since(before), checksum: checksum)
    }

    /// One reader: random 4 KiB blocks, each hashed after it arrives.
    private func readAndHash(
        fd: FileDescriptor, worker: Int, until deadline: Reactor.Instant, reactor: Reactor
    ) async throws -> (Int, Int, UInt64) {
        var buffer = IOBuffer(capacity: TicketData.block, alignment: TicketData.block)
        var state = UInt64(worker &+ 1) &* 0x9e37_79b9_7f4a_7c15
        var reads = 0
        var checksum: UInt64 = 0
        while Reactor.Instant.now < deadline {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let block = Int(state >> 33) % blocks
            buffer = try await reactor.read(from: fd, at: Int64(block * TicketData.block), into: buffer)
            guard buffer.count == TicketData.block else {
                throw BenchError("read of block \(block) returned \(buffer.count) bytes")
            }
            checksum ^= buffer.withUnsafeBytes { fnv1a($0.baseAddress!, count: $0.count) }
            reads += 1
        }
        return (reads, 0, checksum)
    }

    /// A compute task: hashes a buffer in a loop, yielding when the quota is spent.
    private func hashLoop(until deadline: Reactor.Instant, reactor: Reactor) async -> (Int, Int, UInt64) {
        let buffer = AlignedBlock()
        var units = 0
        var checksum: UInt64 = 0
        while Reactor.Instant.now < deadline {
            checksum ^= fnv1a(buffer.pointer, count: TicketData.block, seed: UInt64(units))
            units += 1
            await reactor.yieldIfNeeded()
        }
        return (0, units, checksum)
    }
}

/// A 4 KiB block aligned for O_DIRECT, owned by the task that reads into it.
final class AlignedBlock: @unchecked Sendable {
    let pointer = UnsafeMutableRawPointer.allocate(byteCount: TicketData.block, alignment: TicketData.block)
    init() { pointer.initializeMemory(as: UInt8.self, repeating: 0, count: TicketData.block) }
    deinit { pointer.deallocate() }
}
