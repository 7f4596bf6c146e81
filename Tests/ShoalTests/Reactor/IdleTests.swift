import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// CPU time of the calling thread, in nanoseconds.
private func threadCPUNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

@Suite("Idle: the reactor sleeps in the kernel, once")
struct IdleTests {
    @Test("over one idle second the reactor thread uses under 20 ms of CPU and blocks once")
    func idleSecond() async throws {
        let (cpu, stats) = try await runReactor { reactor -> (UInt64, ReactorStats) in
            try await reactor.sleep(for: .milliseconds(10))  // settle: first submissions done
            let before = reactor.stats
            let cpuBefore = threadCPUNanoseconds()
            try await reactor.sleep(for: .seconds(1))
            return (threadCPUNanoseconds() - cpuBefore, reactor.stats.since(before))
        }
        #expect(cpu < 20_000_000, "reactor thread used \(cpu / 1_000) µs of CPU")
        #expect(stats.sleeps == 1, "entered the blocking step \(stats.sleeps) times")
        #expect(stats.ioGeteventsCalls == 1)
        #expect(stats.ioSubmitCalls == 0)
        #expect(stats.epollWaitCalls == 0)
        #expect(stats.nanosecondsAsleep >= 990_000_000)
    }
}
