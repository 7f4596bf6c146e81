import Foundation
import ShoalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The value of `name` in a Prometheus text exposition.
private func metric(_ name: String, in text: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
}

@Suite("shoal-httpd's counters: /metrics in Prometheus text format, the system-call reaper")
struct HTTPMetricsTests {
    @Test("--metrics: /metrics counts requests, bytes, connections and cache hits; without it /metrics is a path like any other")
    func metricsEndpoint() throws {
        let root = try site("httpd-metrics")
        defer { _ = try? run("rm", ["-rf", root]) }
        try Data(repeating: 1, count: 10_000).write(to: URL(fileURLWithPath: "\(root)/data.bin"))
        let server = try FileServer(root: root, ["--metrics"])
        for _ in 0..<3 { #expect(try curl(["-o", "/dev/null", "\(server.base)/data.bin"]).status == 0) }
        let response = try run("curl", ["-s", "-i", "--max-time", "30", "\(server.base)/metrics"]).output
        #expect(response.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"))
        #expect(response.contains("# TYPE shoal_httpd_requests_total counter"))
        // The three downloads and this request.
        #expect(metric("shoal_httpd_requests_total", in: response) == 4)
        #expect(metric("shoal_httpd_sent_bytes_total", in: response) == 30_000)
        #expect(metric("shoal_httpd_connections_total", in: response) == 4)
        #expect(metric("shoal_httpd_open_connections", in: response) == 1)
        #expect(metric("shoal_httpd_cache_misses_total", in: response) == 1)
        #expect(metric("shoal_httpd_cache_hits_total", in: response) == 2)
        #expect((metric("shoal_reactor_ticks_total", in: response) ?? 0) > 0)
        // The path as the file system would see it: an encoded letter is still /metrics.
        #expect(try curl(["\(server.base)/%6detrics"]).output.contains("# TYPE shoal_httpd_requests_total counter"))
        #expect(try server.stop().status == 0)
        let plain = try FileServer(root: root)
        #expect(try statusCode("\(plain.base)/metrics") == "404")
        try Data("a file".utf8).write(to: URL(fileURLWithPath: "\(root)/metrics"))
        #expect(try curl(["\(plain.base)/metrics"]).output == "a file")
    }

    @Test("--reap-with-system-call: the same bytes, every completion reaped by io_getevents and none from the ring")
    func systemCallReaper() throws {
        let root = try site("httpd-reaper")
        defer { _ = try? run("rm", ["-rf", root]) }
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/data.bin"))
        for (arguments, userSpace) in [(["--reap-with-system-call"], false), ([], true)] {
            let server = try FileServer(root: root, ["--metrics", "--cache-size", "0"] + arguments)
            for _ in 0..<3 {
                #expect(try curl(["-o", "\(root)/copy.bin", "\(server.base)/data.bin"]).status == 0)
                #expect(try Data(contentsOf: URL(fileURLWithPath: "\(root)/copy.bin")) == Data(bytes))
            }
            let text = try curl(["\(server.base)/metrics"]).output
            let completions = try #require(metric("shoal_reactor_io_completions_total", in: text))
            let fromRing = try #require(metric("shoal_reactor_user_space_completions_total", in: text))
            #expect(completions >= 12, "\(text)")
            if userSpace { #expect(fromRing > 0, "\(text)") } else { #expect(fromRing == 0, "\(text)") }
            #expect(try server.stop().status == 0)
        }
    }
}
