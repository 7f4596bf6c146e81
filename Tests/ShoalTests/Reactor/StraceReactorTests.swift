import Foundation
import ShoalTestSupport
import Testing

@Suite("strace: the reactor's counters")
struct StraceReactorTests {
    @Test("the reactor's own system call counters agree with strace")
    func reactorCountersMatchStrace() throws {
        let (calls, output) = try Strace.traceBench(
            ["idle", "--seconds", "0.2", "--json"], calls: "io_submit,io_getevents,io_cancel,epoll_wait,io_setup")
        let json = try #require(output.split(separator: "\n").last)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let totals = try #require(object?["run_totals"] as? [String: Int])
        #expect(calls["io_setup"] == 1)
        for name in ["io_submit", "io_getevents", "io_cancel", "epoll_wait"] {
            #expect((calls[name] ?? 0) == totals[name], "\(name): strace \(calls[name] ?? 0), reactor \(totals[name] ?? -1)")
        }
        #expect((totals["io_getevents"] ?? 0) >= 1)
    }
}
