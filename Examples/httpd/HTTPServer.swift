import ExampleSupport
import Prometheus
import Shoal

/// A request loop per connection, until SIGINT or SIGTERM and a graceful stop.
struct HTTPServer: Sendable {
    let configuration: ServerConfiguration
    let maxConnections: Int
    let gracePeriod: Duration
    /// Where `/metrics` reads from (with `--metrics`).
    let registry: PrometheusCollectorRegistry?

    /// Serves on `address` until SIGINT or SIGTERM (when `watchesSignals`) or until
    /// `stop` is requested; `onListening` learns the bound address.
    func run(
        on address: SocketAddress, reactor: Reactor, watchesSignals: Bool = true, stop: StopRequest? = nil,
        onListening: @Sendable (SocketAddress) -> Void = { _ in }
    ) async throws {
        let counters = Counters()
        let cache = FileCache(capacity: configuration.cacheSize, openFileLimit: configuration.openFileLimit, reactor: reactor)
        let paths = PathCache()
        paths.onChange = { change in cache.forget(change) }
        let metrics = ServerMetrics(registry: registry, counters: counters, cache: cache, reactor: reactor)
        let reporter =
            metrics.reportsPeriodically ? Task(executorPreference: reactor) { await metrics.reportEverySecond(on: reactor) } : nil
        defer { reporter?.cancel() }
        let configuration = self.configuration
        let shown = configuration.root.isEmpty ? "/" : configuration.root
        try await ServerLaunch.serveUntilSignal(
            "shoal-httpd", on: address, reactor: reactor, maxConnections: maxConnections, gracePeriod: gracePeriod,
            watchesSignals: watchesSignals, stop: stop,
            announce: { listener in
                onListening(listener.localAddress)
                printNow("shoal-httpd serving \(shown) on http://\(listener.localAddress)/\n")
                printNow("try: curl -i http://\(listener.localAddress)/\n")
            },
            onSignal: { counters.draining = true },
            handler: { connection in
                counters.connections += 1
                counters.open += 1
                defer { counters.open -= 1 }
                try await RequestLoop(
                    configuration: configuration, counters: counters, reactor: reactor, cache: cache, paths: paths, metrics: metrics
                ).run(connection)
            }
        )
        await cache.closeAll()
        metrics.report()
        printError("shoal-httpd: \(counters.summary), cache hits \(cache.hits), misses \(cache.misses)\n")
    }
}
