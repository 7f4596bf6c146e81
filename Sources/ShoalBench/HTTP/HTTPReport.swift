/// The table and JSON line of `shoal-bench http`.
struct HTTPReport {
    let servers: [HTTPServer]
    let files: [String]
    let results: [String: [String: [WrkResult]]]
    let rounds: Int
    let seconds: Int
    let connections: Int
    let pinned: Bool
    /// The load average when the run began.
    let load: String
    /// Stall warnings each server logged.
    let stalls: [String: Int]

    func print(json: Bool) {
        Swift.print("shoal-bench http: wrk -t1 -c\(connections) -d\(seconds)s, median [min-max] of \(rounds) rounds")
        Swift.print(MachineInfo.current().line)
        Swift.print(pinned ? "server on CPU 0, wrk on CPU 1" : "one CPU: server and wrk share it")
        Swift.print("load average at the start: \(load)")
        let stalled = stalls.filter { $0.value > 0 }
        if !stalled.isEmpty {
            let list = stalled.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            Swift.print("WARNING: reactor stalls logged (something else used the CPU; figures are suspect): \(list)")
        }
        if results["shoal"] == nil { Swift.print("(no ratio column: shoal, the cache-on server, was not among --only)") }
        for file in files {
            Swift.print("\n\(file == "4k" ? "4 KiB" : "1 MiB") file")
            Swift.print(
                pad("server", 52) + pad("requests/s", 26) + pad("MB/s", 26) + pad("CPU µs/req", 24) + pad("syscalls/req", 20)
                    + "shoal-httpd / server")
            let shoal = results["shoal"]?[file]
            for server in servers {
                guard let runs = results[server.key]?[file], !runs.isEmpty else { continue }
                let calls = runs.compactMap(\.systemCallsPerRequest)
                var line = pad(server.name, 52) + pad(Summary(runs.map(\.requestsPerSecond)).formatted(0), 26)
                line += pad(Summary(runs.map { $0.bytesPerSecond / 1e6 }).formatted(0), 26)
                line += pad(Summary(runs.map(\.cpuMicrosecondsPerRequest)).formatted(1), 24)
                line += pad(calls.isEmpty ? "-" : Summary(calls).formatted(2), 20)
                if let shoal, server.key != "shoal" {
                    line += Summary(zip(shoal, runs).map { $0.requestsPerSecond / $1.requestsPerSecond }).formatted(2) + "x"
                }
                Swift.print(line)
            }
        }
        guard json else { return }
        var members: [(String, JSONValue)] = [("benchmark", .string("http")), ("connections", .integer(connections))]
        for file in files {
            for server in servers {
                guard let runs = results[server.key]?[file], !runs.isEmpty else { continue }
                let key = server.key == "shoal" ? "shoal" : server.key
                members.append(("\(key)_rps_\(file)", .number(Summary(runs.map(\.requestsPerSecond)).median)))
                members.append(("\(key)_cpu_us_per_request_\(file)", .number(Summary(runs.map(\.cpuMicrosecondsPerRequest)).median)))
                let calls = runs.compactMap(\.systemCallsPerRequest)
                if !calls.isEmpty { members.append(("\(key)_syscalls_per_request_\(file)", .number(Summary(calls).median))) }
            }
        }
        Swift.print(JSONValue.object(members).text)
    }
}
