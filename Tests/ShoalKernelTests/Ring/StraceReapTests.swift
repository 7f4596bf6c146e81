import Foundation
import ShoalTestSupport
import Testing

/// Checks, with strace, that reaping ready completions makes no io_getevents system call.
///
/// Runs `shoal-bench reap --only userspace --quick` (built next to this test bundle)
/// under `strace -f -c`; the run submits hundreds of thousands of completions and
/// reaps every one of them in user space.
@Suite("strace: the user-space reap loop makes no io_getevents call")
struct StraceReapTests {
    @Test("no io_getevents while events are ready; io_submit is seen, so the trace works")
    func noSystemCallWhileEventsReady() throws {
        let (calls, _) = try Strace.traceBench(
            ["reap", "--only", "userspace", "--quick", "--rounds", "1"],
            calls: "io_getevents,io_pgetevents,io_submit")
        #expect((calls["io_submit"] ?? 0) > 0, "the trace saw no io_submit: \(calls)")
        #expect(calls["io_getevents"] == nil, "io_getevents was called \(calls["io_getevents"] ?? 0) times")
        #expect(calls["io_pgetevents"] == nil)
    }

    @Test("the reap benchmark runs to its end with every reaper (it is the README's demo)")
    func benchmarkRunsWithEveryReaper() throws {
        let result = try runBuilt("shoal-bench", ["reap", "--quick", "--rounds", "1", "--json"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("\"libaio_over_userspace\""))
    }
}
