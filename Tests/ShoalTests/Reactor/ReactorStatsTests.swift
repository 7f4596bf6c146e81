import ShoalKernel
import ShoalTestSupport
import Testing

@testable import Shoal

@Suite("ReactorStats")
struct ReactorStatsTests {
    @Test("since() subtracts every counter")
    func sinceCoversEveryField() {
        var stats = ReactorStats()
        // Give every counter a distinct nonzero value through reflection's labels.
        let labels = Mirror(reflecting: stats).children.compactMap(\.label)
        #expect(labels.count == 21, "a counter was added: list it in ReactorStats.counts too, then update this count")
        stats.ticks = 3
        stats.jobsRun = 5
        stats.closuresRun = 7
        stats.enqueues = 11
        stats.remoteEnqueues = 13
        stats.sleeps = 17
        stats.nanosecondsAsleep = 19
        stats.quotaYields = 23
        stats.timersFired = 29
        stats.completions = 31
        stats.userSpaceCompletions = 37
        stats.ioSubmitCalls = 41
        stats.ioGeteventsCalls = 43
        stats.ioCancelCalls = 47
        stats.epollWaitCalls = 53
        stats.eventfdReads = 59
        stats.eventfdWrites = 61
        stats.arrivedAfterStop = 67
        stats.stalls = 71
        stats.blockingCalls = 79
        stats.longestStallNanoseconds = 73
        var zero = ReactorStats()
        zero.longestStallNanoseconds = 73  // a maximum, not a count: kept as it is
        #expect(stats.since(stats) == zero)
        #expect(stats.since(ReactorStats()) == stats)
        #expect(stats.systemCalls == 41 + 43 + 47 + 53 + 59 + 61)
    }
}
