import ArgumentParser
import BenchSupport
import Foundation

/// `queue-bench`: Shoal's run queue against SwiftNIO's event loop, libdispatch and
/// Swift's global executor, alternating processes in one run.
@main
struct QueueBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue-bench",
        abstract: "Closures and task resumptions per second: Shoal's reactor, a SwiftNIO event loop, libdispatch, the global executor.",
        discussion: """
            Each round runs `shoal-bench tasks --rounds 1 --json` (Shoal, with its libdispatch and \
            global-executor peers measured in the same process) and `nio-queue` (closures \
            through EventLoop.execute from the loop; Task.yield() in an actor whose executor is \
            the loop), one after the other, pinned to CPU 0. Median and range of --rounds rounds.
            """)

    @Option(help: "Rounds.")
    var rounds = 5

    @Option(help: "Closures or resumptions per measurement.")
    var count = 200_000

    @Flag(help: "Print one JSON object on the last line.")
    var json = false

    func validate() throws {
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be 1...100") }
        guard count >= 1_000 else { throw ValidationError("--count must be at least 1000") }
    }

    func run() throws {
        let programs = try Programs.locate()
        try programs.buildSiblings()
        let shoal = [try programs.shoal("shoal-bench"), "tasks", "--rounds", "1", "--count", "\(count)", "--json"]
        let nio = [try programs.sibling("nio-queue"), "--count", "\(count)"]
        var samples: [String: [Double]] = [:]
        for _ in 0..<rounds {
            for (key, value) in try lastJSON(shoal) { samples["shoal." + key, default: []].append(value) }
            for (key, value) in try lastJSON(nio) { samples["nio." + key, default: []].append(value) }
        }
        func get(_ key: String) throws -> [Double] {
            guard let values = samples[key], values.count == rounds else { throw BenchError("no \(key) in the programs' output") }
            return values
        }
        let rows: [(String, [Double], [Double], [Double], [Double])] = [
            ("closures", try get("shoal.closures_per_s"), try get("nio.closures_per_s"), try get("shoal.dispatch_closures_per_s"), []),
            ("task resumptions", try get("shoal.resumes_per_s"), try get("nio.resumes_per_s"), [], try get("shoal.global_resumes_per_s")),
        ]
        print("queue-bench: millions per second, median [min-max] of \(rounds) rounds, \(count) per measurement")
        print(machineLine() + "\n")
        print(
            pad("what", 18) + pad("Shoal", 20) + pad("NIO event loop", 20) + pad("dispatch / global", 20) + pad("Shoal/NIO", 18)
                + "Shoal/other")
        for (name, shoalValues, nioValues, dispatchValues, globalValues) in rows {
            let other = dispatchValues.isEmpty ? globalValues : dispatchValues
            print(
                pad(name, 18) + pad(Summary(shoalValues).formatted(2, scale: 1e6), 20)
                    + pad(Summary(nioValues).formatted(2, scale: 1e6), 20) + pad(Summary(other).formatted(2, scale: 1e6), 20)
                    + pad(Summary(zip(shoalValues, nioValues).map { $0 / $1 }).formatted(2) + "x", 18)
                    + Summary(zip(shoalValues, other).map { $0 / $1 }).formatted(2) + "x")
        }
        if json {
            let fields = [
                ("shoal_closures_per_s", "shoal.closures_per_s"), ("nio_closures_per_s", "nio.closures_per_s"),
                ("dispatch_closures_per_s", "shoal.dispatch_closures_per_s"), ("shoal_resumes_per_s", "shoal.resumes_per_s"),
                ("nio_resumes_per_s", "nio.resumes_per_s"), ("global_resumes_per_s", "shoal.global_resumes_per_s"),
            ].map { "\"\($0.0)\":\(Summary(samples[$0.1]!).median)" }
            print("{" + fields.joined(separator: ",") + "}")
        }
    }

    /// Runs `command` pinned to CPU 0 and returns the numbers of the JSON object on its last line.
    private func lastJSON(_ command: [String]) throws -> [String: Double] {
        let pinned = Run.pinned(0, command)
        let result = try Run.capture(pinned[0], Array(pinned.dropFirst()))
        guard result.status == 0, let line = result.output.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw BenchError("\(command[0]) failed (\(result.status)): \(result.error)") }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }
}
