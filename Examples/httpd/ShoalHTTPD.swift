import ArgumentParser
import ExampleSupport
import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// `shoal-httpd`: an HTTP/1.1 file server on one reactor thread.
@main
struct ShoalHTTPD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal-httpd",
        abstract: "An HTTP/1.1 static file server on one reactor thread: file bytes come through Shoal's asynchronous reads.",
        discussion: """
            Serves GET and HEAD for the files below --root (a directory serves its index.html), \
            with keep-alive, pipelining, Content-Type from the extension, Last-Modified and \
            ETag validators (304), and single byte ranges (206, 416). Paths that leave the \
            root (.., symbolic links pointing outside) and hidden files get 404; encoded \
            separators and bad percent-encoding get 400. On SIGINT or SIGTERM it stops accepting, gives open connections \
            --grace-period seconds, prints its counters and exits 0; a second signal ends it \
            at once. Exits 66 when the root is not a readable directory, 1 when it cannot \
            listen, 64 on bad arguments.
            """)

    @Option(help: "The directory to serve.")
    var root = "docs"

    @Option(help: "The address to listen on, or a name.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port, printed when ready).")
    var port = 8_080

    @Option(help: "Connections served at once; more wait in the kernel's backlog.")
    var maxConnections = 10_000

    @Option(help: "Seconds a kept-alive connection may wait for its next request.")
    var idleTimeout: Double = 30

    @Option(help: "Seconds a client may take to send a request head, from its first byte.")
    var headerTimeout: Double = 10

    @Option(help: "Seconds open connections get to finish after SIGINT or SIGTERM.")
    var gracePeriod: Double = 5

    @Flag(help: "Print one line per response on standard output (common log format, from a thread of its own).")
    var accessLog = false

    @Flag(help: "Answer GET /metrics with the server's and the reactor's counters in Prometheus text format.")
    var metrics = false

    @Flag(help: "Reap AIO completions with the io_getevents system call instead of reading the ring in user space (for comparisons).")
    var reapWithSystemCall = false

    // Unconditional: `--cache-size -5` is a bad size, not a missing value.
    @Option(
        parsing: .unconditional,
        help: "Memory for cached file blocks: bytes, or with K, M or G (0: no cache; default: 1/16 of memory, at most 1G).")
    var cacheSize: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        for (name, value) in [("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout)] {
            guard value > 0, value.isFinite else { throw ValidationError("\(name) must be more than 0 seconds") }
        }
        guard gracePeriod >= 0, gracePeriod.isFinite else { throw ValidationError("--grace-period must be 0 or more seconds") }
        if let cacheSize, Self.bytes(cacheSize) == nil {
            throw ValidationError("--cache-size must be a number of bytes, optionally with K, M or G: got \(cacheSize)")
        }
    }

    /// `"512M"` as bytes; `nil` if it is not a size.
    static func bytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        let unit = text.last.flatMap { units[$0] } ?? 1
        let digits = unit == 1 ? Substring(text) : text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : product
    }

    /// Raises the soft limit on open descriptors to the hard one (a server wants them all)
    /// and returns it.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)  // RLIM_INFINITY is the largest value: no limit
    }

    /// A sixteenth of physical memory, at most 1 GiB.
    static var defaultCacheSize: Int {
        let memory = sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
        return min(max(memory / 16, 0), 1 << 30)
    }

    func run() async throws {
        // A write to a pipe whose reader went away (the access log piped to `head`) fails
        // with EPIPE rather than ending the process.
        signal(SIGPIPE, SIG_IGN)
        let descriptorLimit = Self.raiseDescriptorLimit()
        var status = stat()
        guard let real = realPath(root), stat(real, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, access(real, R_OK | X_OK) == 0 else {
            printError("shoal-httpd: cannot serve \(root): not a readable directory (name the folder to serve with --root)\n")
            throw ExitCode(66)
        }
        let log = accessLog ? AccessLog() : nil
        defer {
            // Lines still waiting get a moment to go out; a reader that stopped reading
            // does not hold the exit.
            if let dropped = log?.finish(timeout: .seconds(2)), dropped > 0 {
                printError("shoal-httpd: access log: \(dropped) lines dropped (standard output did not keep up)\n")
            }
        }
        let configuration = ServerConfiguration(
            root: real == "/" ? "" : real, idleTimeout: ServerLaunch.duration(seconds: idleTimeout),
            headerTimeout: ServerLaunch.duration(seconds: headerTimeout), writeTimeout: .seconds(30), accessLog: log,
            cacheSize: cacheSize.flatMap(Self.bytes) ?? Self.defaultCacheSize, metrics: metrics,
            openFileLimit: min(256, max(4, descriptorLimit / 8)))
        let server = HTTPServer(
            configuration: configuration, maxConnections: maxConnections, gracePeriod: ServerLaunch.duration(seconds: gracePeriod),
            registry: metrics ? ServerMetrics.bootstrapPrometheus() : nil)
        var reactorConfiguration = Reactor.Configuration()
        reactorConfiguration.forcesSystemCallReap = reapWithSystemCall
        try await ServerLaunch.run("shoal-httpd", host: host, port: port, configuration: reactorConfiguration) { address, reactor in
            try await server.run(on: address, reactor: reactor)
        }
    }
}
