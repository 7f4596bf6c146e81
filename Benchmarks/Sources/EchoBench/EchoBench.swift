import ArgumentParser
import BenchSupport
import Foundation

/// `echo-bench`: shoal-echo against SwiftNIO and a C epoll server, alternating in one run.
@main
struct EchoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-bench",
        abstract: "TCP echo: shoal-echo against an echo server on SwiftNIO (one event loop) and a minimal C epoll server.",
        discussion: """
            Each measurement starts one server (pinned to CPU 0 with taskset) and runs echo-load \
            (pinned to CPU 1): N connections in ping-pong of SIZE-byte messages, counted for \
            --seconds after --warmup. The servers take turns in every round (Shoal, NIO, C, \
            rotating the order); the table shows the median and range of --rounds rounds. \
            Use --rounds 5 or more: a single round on a shared machine can be off by 2x. \
            --syscalls adds one run of each server in each shape, its system calls counted by \
            perf stat on the syscall tracepoints (strace -c -f when perf is missing; strace \
            slows the server and changes its batching), and reports them per request. --json prints one JSON object on the last line.
            """)

    @Option(help: "Rounds after one warm-up round.")
    var rounds = 5

    @Option(help: "Seconds counted per measurement.")
    var seconds: Double = 3

    @Option(help: "Seconds of load before counting starts.")
    var warmup: Double = 1

    @Option(help: "Shapes as CONNECTIONSxBYTES, comma-separated.")
    var shapes = "64x64,1x64,64x16384"

    @Flag(help: "Also count system calls per request (perf stat, else strace -c -f), in every shape.")
    var syscalls = false

    @Flag(help: "Print one JSON object on the last line.")
    var json = false

    func validate() throws {
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be 1...100") }
        guard seconds > 0, seconds <= 60, warmup >= 0, warmup <= 60 else {
            throw ValidationError("--seconds must be in (0, 60], --warmup in [0, 60]")
        }
        _ = try parsedShapes()
    }

    func parsedShapes() throws -> [Shape] {
        try shapes.split(separator: ",").map { text in
            let parts = text.split(separator: "x")
            guard parts.count == 2, let connections = Int(parts[0]), let size = Int(parts[1]),
                (1...10_000).contains(connections), (1...(1 << 20)).contains(size)
            else { throw ValidationError("bad shape \(text): use CONNECTIONSxBYTES, e.g. 64x64") }
            return Shape(connections: connections, size: size)
        }
    }

    func run() throws {
        let programs = try Programs.locate()
        try programs.buildSiblings()
        let servers = [
            Peer(name: "Shoal", command: [try programs.shoal("shoal-echo"), "--port", "0"]),
            Peer(name: "NIO", command: [try programs.sibling("nio-echo"), "--port", "0"]),
            Peer(name: "C", command: [try programs.sibling("c-echo"), "0"]),
        ]
        let load = try programs.sibling("echo-load")
        var results: [Shape: [String: [LoadResult]]] = [:]
        let shapes = try parsedShapes()
        for shape in shapes {
            for round in -1..<rounds {
                // Rotate who goes first, so no server always follows the same one.
                let order = (0..<servers.count).map { servers[($0 + max(round, 0)) % servers.count] }
                for peer in order {
                    let result = try measure(peer, shape: shape, load: load, seconds: seconds, warmup: warmup)
                    if round >= 0 { results[shape, default: [:]][peer.name, default: []].append(result) }
                }
            }
        }
        var counts: [Shape: [String: SyscallCount]] = [:]
        if syscalls {
            for shape in shapes {
                for peer in servers { counts[shape, default: [:]][peer.name] = try countSyscalls(peer, shape: shape, load: load) }
            }
        }
        report(shapes: shapes, results: results, counts: counts)
    }

    private func report(shapes: [Shape], results: [Shape: [String: [LoadResult]]], counts: [Shape: [String: SyscallCount]]) {
        print("echo-bench: requests/s and latency, median [min-max] of \(rounds) rounds, \(seconds) s each after \(warmup) s warm-up")
        print(machineLine() + "; servers on CPU 0, echo-load on CPU 1")
        print("ratios: the median of each round's ratio (the servers of a round ran back to back)\n")
        print(pad("shape", 14) + pad("Shoal req/s", 26) + pad("NIO req/s", 26) + pad("C req/s", 26) + pad("Shoal/NIO", 20) + "Shoal/C")
        for shape in shapes {
            let byPeer = results[shape] ?? [:]
            let rps = { (name: String) in Summary(byPeer[name]!.map(\.rps)) }
            let ratio = { (other: String) in Summary(zip(byPeer["Shoal"]!, byPeer[other]!).map { $0.rps / $1.rps }) }
            print(
                pad("\(shape)", 14) + pad(rps("Shoal").formatted(0), 26) + pad(rps("NIO").formatted(0), 26)
                    + pad(rps("C").formatted(0), 26) + pad(ratio("NIO").formatted(2) + "x", 20) + ratio("C").formatted(2) + "x")
        }
        print("\n" + pad("shape", 14) + pad("Shoal p50/p99 µs", 26) + pad("NIO p50/p99 µs", 26) + "C p50/p99 µs")
        for shape in shapes {
            let byPeer = results[shape] ?? [:]
            let latency = { (name: String) in
                let p50 = Summary(byPeer[name]!.map(\.p50)).median
                let p99 = Summary(byPeer[name]!.map(\.p99)).median
                return String(format: "%.0f / %.0f", p50, p99)
            }
            print(pad("\(shape)", 14) + pad(latency("Shoal"), 26) + pad(latency("NIO"), 26) + latency("C"))
        }
        for shape in shapes {
            guard let byPeer = counts[shape], let tool = byPeer.values.first?.tool else { continue }
            print("\nsystem calls per request (\(tool)), \(shape):")
            for name in ["Shoal", "NIO", "C"] {
                guard let count = byPeer[name] else { continue }
                print("  " + pad(name, 7) + String(format: "%.2f", count.perRequest) + "  (" + count.top + ")")
            }
        }
        if json, let first = shapes.first, let byPeer = results[first] {
            var fields: [String] = []
            for (name, key) in [("Shoal", "shoal"), ("NIO", "nio"), ("C", "c")] {
                fields.append("\"\(key)_rps\":\(Summary(byPeer[name]!.map(\.rps)).median)")
                fields.append("\"\(key)_p99_us\":\(Summary(byPeer[name]!.map(\.p99)).median)")
                if let count = counts[first]?[name] { fields.append("\"\(key)_syscalls_per_request\":\(count.perRequest)") }
            }
            fields.append("\"shape\":\"\(first)\"")
            fields.append("\"rounds\":\(rounds)")
            print("{" + fields.joined(separator: ",") + "}")
        }
    }
}

/// N connections in ping-pong of SIZE-byte messages.
struct Shape: Hashable, CustomStringConvertible {
    let connections: Int
    let size: Int
    var description: String { "\(connections) x \(size >= 1024 ? "\(size / 1024) KiB" : "\(size) B")" }
}

/// A server under test.
struct Peer {
    let name: String
    let command: [String]
}
