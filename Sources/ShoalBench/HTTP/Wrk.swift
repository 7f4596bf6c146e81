import Foundation

/// One wrk run's figures.
struct WrkResult {
    var requestsPerSecond: Double
    var bytesPerSecond: Double
    var requests: Int
    var cpuSeconds = 0.0
    var systemCalls: Int?

    /// Server CPU microseconds per request.
    var cpuMicrosecondsPerRequest: Double { requests > 0 ? cpuSeconds * 1e6 / Double(requests) : .nan }
    /// The reactor's system calls per request (shoal-httpd only).
    var systemCallsPerRequest: Double? { systemCalls.map { requests > 0 ? Double($0) / Double(requests) : .nan } }
}

/// Runs wrk and reads its summary.
enum Wrk {
    /// `wrk -t1 -c<connections> -d<seconds>s url` (on CPU 1 when `pinned`); throws when
    /// wrk fails or any response was not 2xx/3xx or any socket error was reported.
    static func run(_ wrk: String, url: String, connections: Int, seconds: Int, pinned: Bool) throws -> WrkResult {
        let process = Process()
        let command = [wrk, "-t1", "-c\(connections)", "-d\(seconds)s", url]
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = pinned ? ["taskset", "-c", "1"] + command : command
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw BenchError("wrk failed on \(url):\n\(text)") }
        if text.contains("Non-2xx") || text.contains("Socket errors") {
            throw BenchError("wrk saw errors on \(url):\n\(text)")
        }
        func value(after label: String) -> Substring? {
            text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }?
                .split(separator: " ", omittingEmptySubsequences: true).last
        }
        guard let rate = value(after: "Requests/sec:").flatMap({ Double($0) }),
            let transfer = value(after: "Transfer/sec:").flatMap(bytes),
            let total = text.split(separator: "\n").first(where: { $0.contains("requests in") })?
                .split(separator: " ", omittingEmptySubsequences: true).first.flatMap({ Int($0) })
        else { throw BenchError("cannot read wrk's output:\n\(text)") }
        return WrkResult(requestsPerSecond: rate, bytesPerSecond: transfer, requests: total)
    }

    /// `"58.12MB"` as bytes.
    private static func bytes(_ text: Substring) -> Double? {
        let units: [(String, Double)] = [("GB", 1_073_741_824), ("MB", 1_048_576), ("KB", 1_024), ("B", 1)]
        for (unit, scale) in units where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { $0 * scale }
        }
        return nil
    }
}
