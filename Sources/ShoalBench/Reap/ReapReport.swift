import ShoalKernel

/// The table and JSON line of `shoal-bench reap`.
struct ReapReport {
    let samples: [ReapCase: [Reaper: [Double]]]
    let methods: [Reaper]
    let rounds: Int
    let counters: CompletionReaper.Counters

    private func summary(_ benchCase: ReapCase, _ method: Reaper) -> Summary? {
        samples[benchCase]?[method].map(Summary.init)
    }

    /// Per-round ratio `numerator / denominator`, then summarised.
    private func ratio(_ benchCase: ReapCase, _ numerator: Reaper, over denominator: Reaper) -> Summary? {
        guard let top = samples[benchCase]?[numerator], let bottom = samples[benchCase]?[denominator] else { return nil }
        return Summary(zip(top, bottom).map { $0 / $1 })
    }

    func table() -> String {
        var lines = [
            "shoal-bench reap: nanoseconds per reap, median [min-max] of \(rounds) rounds",
            MachineInfo.current().line,
            "",
        ]
        var header = pad("case", 9)
        for method in methods { header += pad(method.rawValue, 22) }
        let showRatios = methods.contains(.userspace) && methods.count > 1
        if showRatios { header += pad("syscall/userspace", 22) + "libaio/userspace" }
        lines.append(header)
        for benchCase in ReapCase.allCases {
            var line = pad(benchCase.name, 9)
            for method in methods { line += pad(summary(benchCase, method)?.formatted(1) ?? "-", 22) }
            if showRatios {
                line += pad(ratio(benchCase, .syscall, over: .userspace).map { $0.formatted(1) + "x" } ?? "-", 22)
                line += ratio(benchCase, .libaio, over: .userspace).map { $0.formatted(1) + "x" } ?? "-"
            }
            lines.append(line)
        }
        if showRatios {
            lines.append("(empty ring: libaio checks the ring in user space too, and skips the system call)")
        }
        if methods.contains(.userspace) {
            lines.append("")
            lines.append(
                "user-space reaper: \(counters.userSpaceReaps) reaps, \(counters.userSpaceCompletions) completions, "
                    + "\(counters.systemCalls) io_getevents system calls")
        }
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        var members: [(String, JSONValue)] = [
            ("benchmark", .string("reap")),
            ("rounds", .integer(rounds)),
            ("kernel", .string(MachineInfo.current().kernel)),
            ("cpus", .integer(MachineInfo.current().cpus)),
            ("userspace_syscalls", .integer(counters.systemCalls)),
        ]
        for benchCase in ReapCase.allCases {
            var fields: [(String, JSONValue)] = []
            for method in Reaper.allCases {
                let key = method.rawValue + "_ns"
                if let value = summary(benchCase, method) {
                    fields += [
                        (key, .number(value.median)), (key + "_min", .number(value.minimum)), (key + "_max", .number(value.maximum)),
                    ]
                } else {
                    fields.append((key, .null))
                }
            }
            for peer in [Reaper.syscall, .libaio] {
                if let value = ratio(benchCase, peer, over: .userspace) {
                    fields.append(("\(peer.rawValue)_over_userspace", .number(value.median)))
                }
            }
            members.append((benchCase.name, .object(fields)))
        }
        return JSONValue.object(members).text
    }
}
