import Foundation

/// The programs `shoal-bench http` runs, found or named as missing.
struct HTTPPrograms {
    let shoalHTTPD: String
    let nginx: String
    let wrk: String
    let hummingbird: String
    let cpus: Int

    /// Finds the programs the servers with `keys` need (and wrk), or throws one error
    /// naming all that are missing and how to get them.
    static func locate(for keys: Set<String>) throws -> HTTPPrograms {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // shoal-bench runs from inside <repository>/.build/.
        var repository = folder
        while repository.path != "/"
            && !FileManager.default.fileExists(atPath: repository.appendingPathComponent("Benchmarks/Package.swift").path)
        {
            repository = repository.deletingLastPathComponent()
        }
        let shoal = folder.appendingPathComponent("shoal-httpd").path
        let hummingbird = repository.appendingPathComponent("Benchmarks/.build/release/hb-files").path
        var missing: [String] = []
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if keys.contains(where: { $0.hasPrefix("shoal") }) && !FileManager.default.isExecutableFile(atPath: shoal) {
            missing.append("shoal-httpd (swift build -c release --product shoal-httpd)")
        }
        let nginx = findExecutable("nginx") ?? ["/usr/sbin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
        if nginx == nil && keys.contains(where: { $0.hasPrefix("nginx") }) { missing.append("nginx (apt-get install -y nginx)") }
        let wrk = findExecutable("wrk")
        if wrk == nil { missing.append("wrk (apt-get install -y wrk)") }
        if keys.contains("hummingbird") && !FileManager.default.isExecutableFile(atPath: hummingbird) {
            missing.append(
                "the Hummingbird peer \(hummingbird) (swift build -c release --package-path Benchmarks --product hb-files; about 10 minutes the first time)"
            )
        }
        if cpus >= 2 && findExecutable("taskset") == nil { missing.append("taskset (apt-get install -y util-linux)") }
        guard missing.isEmpty else {
            throw BenchError("missing:\n  " + missing.joined(separator: "\n  "))
        }
        return HTTPPrograms(
            shoalHTTPD: shoal, nginx: nginx ?? "nginx", wrk: wrk!, hummingbird: hummingbird, cpus: cpus)
    }
}
