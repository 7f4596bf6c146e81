import ArgumentParser
import Foundation

/// `shoal-bench http`: shoal-httpd against nginx and Hummingbird, with wrk, alternately.
struct HTTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "Serve a 4 KiB and a 1 MiB file: shoal-httpd against nginx and Hummingbird, measured with wrk, alternately.",
        discussion: """
            Servers: shoal-httpd (block cache on; cache off; cache off with the io_getevents \
            reaper), nginx with one worker (sendfile on; and sendfile off, aio threads, \
            directio 4k: its thread-pool path with O_DIRECT reads), and Hummingbird's \
            FileMiddleware on one NIO event-loop thread (hb-files, built in Benchmarks/). \
            Each round starts every server in turn, in an order that rotates, warms it up \
            for a second and runs `wrk -t1 -cN -dS` on each file. With two or more CPUs the \
            server runs on CPU 0 and wrk on CPU 1. Server CPU time is the process's \
            user+system time (all its threads) during the measured run; shoal-httpd's \
            system calls per request come from the reactor's counters (its /metrics). \
            Installs nothing: it names what is missing (apt-get install -y nginx wrk; \
            swift build -c release --package-path Benchmarks --product hb-files).
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Seconds per measured wrk run.")
    var seconds = 5

    @Option(help: "wrk's connections.")
    var connections = 32

    @Option(help: "The folder for the served files and the servers' configuration.")
    var folder = ".shoal-bench-http"

    @Option(help: "The first of the ports used (one per server, on 127.0.0.1).")
    var port = 18_200

    @Option(
        help:
            "Only these servers, comma-separated (keys: shoal, shoal_nocache, shoal_forced_syscall, nginx_sendfile, nginx_threads, hummingbird)."
    )
    var only: String?

    func validate() throws {
        guard (1...600).contains(seconds) else { throw ValidationError("--seconds must be between 1 and 600") }
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections must be between 1 and 10000") }
        guard (1_024...65_000).contains(port) else { throw ValidationError("--port must be between 1024 and 65000") }
        if let only {
            let known = Set(HTTPServers.keys)
            for key in only.split(separator: ",") where !known.contains(String(key)) {
                throw ValidationError("--only: unknown server \(key); known: \(HTTPServers.keys.joined(separator: ", "))")
            }
        }
    }

    func run() throws {
        let folderURL = URL(fileURLWithPath: folder).standardizedFileURL
        let wanted = only.map { Set($0.split(separator: ",").map(String.init)) } ?? Set(HTTPServers.keys)
        let programs = try HTTPPrograms.locate(for: wanted)
        var servers = HTTPServers.all(programs: programs, folder: folderURL.path, firstPort: port)
        servers.removeAll { !wanted.contains($0.key) }
        try HTTPServers.prepare(folder: folderURL.path, servers: servers)
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ")
        let files = [(key: "4k", name: "4k.bin"), (key: "1m", name: "1m.bin")]
        let pinned = programs.cpus >= 2
        var results = [String: [String: [WrkResult]]]()
        for round in -1..<common.rounds {
            for step in servers.indices {
                let server = servers[(step + max(round, 0)) % servers.count]
                let log = folderURL.path + "/" + server.key + ".log"
                let running = try server.start(pinned: pinned, log: log)
                defer { running.stop() }
                for file in files {
                    let url = "http://127.0.0.1:\(server.port)/\(file.name)"
                    do {
                        _ = try Wrk.run(programs.wrk, url: url, connections: connections, seconds: 1, pinned: pinned)
                    } catch let error as BenchError {
                        throw BenchError("\(server.name), round \(round + 1), warm-up: \(error.description)\nits standard error: \(log)")
                    }
                    let before = running.sample()
                    var result: WrkResult
                    do {
                        result = try Wrk.run(programs.wrk, url: url, connections: connections, seconds: seconds, pinned: pinned)
                    } catch let error as BenchError {
                        throw BenchError("\(server.name), round \(round + 1): \(error.description)\nits standard error: \(log)")
                    }
                    let after = running.sample()
                    result.cpuSeconds = after.cpuSeconds - before.cpuSeconds
                    if let calls = after.systemCalls, let earlier = before.systemCalls { result.systemCalls = calls - earlier }
                    if round >= 0 { results[server.key, default: [:]][file.key, default: []].append(result) }
                }
            }
        }
        // Stalls the servers reported: a busy machine makes every figure suspect.
        var stalls: [String: Int] = [:]
        for server in servers {
            let text = (try? String(contentsOfFile: folderURL.path + "/" + server.key + ".log", encoding: .utf8)) ?? ""
            stalls[server.key] = text.components(separatedBy: "reactor stalled").count - 1
        }
        HTTPReport(
            servers: servers, files: files.map(\.key), results: results, rounds: common.rounds, seconds: seconds,
            connections: connections, pinned: pinned, load: load ?? "?", stalls: stalls
        ).print(json: common.json)
    }
}
