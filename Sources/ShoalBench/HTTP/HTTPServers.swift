import Foundation

/// One server of `shoal-bench http`: how to start it on its port.
struct HTTPServer {
    let key: String
    let name: String
    let port: Int
    let command: [String]
    /// Whether it answers GET /metrics with the reactor's counters (shoal-httpd).
    let hasMetrics: Bool

    /// Starts it (on CPU 0 when `pinned`) and waits until it accepts connections.
    /// Its standard error goes to `log`.
    func start(pinned: Bool, log: String) throws -> RunningServer {
        // Another program on the port (a server left from an earlier run) would be measured instead.
        guard !HTTPProbe.accepts(port: port) else {
            throw BenchError("port \(port) is in use (a server left from an earlier run?): choose others with --port")
        }
        let process = Process()
        let arguments = pinned ? ["taskset", "-c", "0"] + command : command
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        // Appended to: every round's output stays for the whole run (cleared by prepare).
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        guard let errors = FileHandle(forWritingAtPath: log) else { throw BenchError("cannot write \(log)") }
        errors.seekToEndOfFile()
        process.standardError = errors
        try process.run()
        try? errors.close()
        let running = RunningServer(process: process, port: port, hasMetrics: hasMetrics)
        let deadline = Date().addingTimeInterval(20)
        while !HTTPProbe.accepts(port: port) {
            guard process.isRunning, Date() < deadline else {
                running.stop()
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw BenchError("\(name) did not start on port \(port): \(output)")
            }
            usleep(20_000)
        }
        guard process.isRunning else {
            throw BenchError("\(name) exited at start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return running
    }
}

/// A started server.
final class RunningServer {
    let process: Process
    let port: Int
    let hasMetrics: Bool

    init(process: Process, port: Int, hasMetrics: Bool) {
        self.process = process
        self.port = port
        self.hasMetrics = hasMetrics
    }

    /// The server's CPU time so far (all its threads) and, for shoal-httpd, the
    /// reactor's system calls.
    func sample() -> (cpuSeconds: Double, systemCalls: Int?) {
        let cpu = HTTPProbe.cpuSeconds(pid: process.processIdentifier)
        guard hasMetrics, let text = HTTPProbe.get(port: port, path: "/metrics") else { return (cpu, nil) }
        let line = text.split(separator: "\n").first { $0.hasPrefix("shoal_reactor_system_calls_total ") }
        return (cpu, line.flatMap { Double($0.split(separator: " ")[1]) }.map { Int($0) })
    }

    /// SIGTERM, then SIGKILL after 5 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// The servers compared, and what they serve.
enum HTTPServers {
    static let keys = ["shoal", "shoal_nocache", "shoal_forced_syscall", "nginx_sendfile", "nginx_threads", "hummingbird"]

    static func all(programs: HTTPPrograms, folder: String, firstPort: Int) -> [HTTPServer] {
        let root = folder + "/root"
        let shoal = [programs.shoalHTTPD, "--root", root, "--metrics", "--host", "127.0.0.1", "--port"]
        return [
            HTTPServer(
                key: "shoal", name: "shoal-httpd (block cache on)", port: firstPort,
                command: shoal + [String(firstPort)], hasMetrics: true),
            HTTPServer(
                key: "shoal_nocache", name: "shoal-httpd --cache-size 0", port: firstPort + 1,
                command: shoal + [String(firstPort + 1), "--cache-size", "0"], hasMetrics: true),
            HTTPServer(
                key: "shoal_forced_syscall", name: "shoal-httpd --cache-size 0 --reap-with-system-call", port: firstPort + 2,
                command: shoal + [String(firstPort + 2), "--cache-size", "0", "--reap-with-system-call"], hasMetrics: true),
            HTTPServer(
                key: "nginx_sendfile", name: "nginx, 1 worker, sendfile on", port: firstPort + 3,
                command: [programs.nginx, "-c", folder + "/nginx-sendfile.conf", "-p", folder], hasMetrics: false),
            HTTPServer(
                key: "nginx_threads", name: "nginx, 1 worker, aio threads, directio 4k", port: firstPort + 4,
                command: [programs.nginx, "-c", folder + "/nginx-threads.conf", "-p", folder], hasMetrics: false),
            HTTPServer(
                key: "hummingbird", name: "Hummingbird 2.28 FileMiddleware, 1 event loop", port: firstPort + 5,
                command: [programs.hummingbird, "--root", root, "--port", String(firstPort + 5)], hasMetrics: false),
        ]
    }

    /// Writes the files (random bytes, once) and the nginx configurations, and clears the
    /// servers' logs of an earlier run.
    static func prepare(folder: String, servers: [HTTPServer]) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder + "/root", withIntermediateDirectories: true)
        for server in servers { try? manager.removeItem(atPath: folder + "/" + server.key + ".log") }
        var generator = SystemRandomNumberGenerator()
        for (name, size) in [("4k.bin", 4_096), ("1m.bin", 1 << 20)] {
            let path = folder + "/root/" + name
            if let attributes = try? manager.attributesOfItem(atPath: path), (attributes[.size] as? Int) == size { continue }
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            guard manager.createFile(atPath: path, contents: Data(bytes)) else { throw BenchError("cannot write \(path)") }
        }
        for server in servers where server.key.hasPrefix("nginx") {
            let io = server.key == "nginx_sendfile" ? "sendfile on;" : "sendfile off; aio threads; directio 4k;"
            let configuration = """
                worker_processes 1;
                master_process off;
                daemon off;
                pid \(folder)/\(server.key).pid;
                error_log \(folder)/\(server.key)-error.log;
                events { worker_connections 4096; }
                http {
                    access_log off;
                    \(io)
                    keepalive_requests 100000000;
                    default_type application/octet-stream;
                    server {
                        listen 127.0.0.1:\(server.port);
                        root \(folder)/root;
                    }
                }

                """
            try configuration.write(
                toFile: folder + "/" + "\(server.key).conf".replacing("_", with: "-"), atomically: true, encoding: .utf8)
        }
    }
}
