import Metrics
import Prometheus
import Shoal

/// The server's counters and the reactor's, exported through swift-metrics: whatever
/// backend the process bootstrapped receives them (none: they go nowhere). With
/// `--metrics`, shoal-httpd bootstraps a Prometheus registry and answers `GET /metrics`
/// with its text format.
///
/// The request path only bumps plain integers (``Counters``); the metrics receive the
/// difference since the last report at every `/metrics` request and at shutdown, so
/// exporting costs nothing per request. Reactor thread only.
final class ServerMetrics: @unchecked Sendable {
    /// The registry `/metrics` reads, when `--metrics` bootstrapped one.
    let registry: PrometheusCollectorRegistry?

    private let counters: Counters
    private let cache: FileCache
    private let reactor: Reactor
    private var reported = Snapshot()
    private var reportedStats = ReactorStats()

    private let requests = Metrics.Counter(label: "shoal_httpd_requests_total")
    private let bytes = Metrics.Counter(label: "shoal_httpd_sent_bytes_total")
    private let connections = Metrics.Counter(label: "shoal_httpd_connections_total")
    private let malformed = Metrics.Counter(label: "shoal_httpd_malformed_requests_total")
    private let timeouts = Metrics.Counter(label: "shoal_httpd_timeouts_total")
    private let hits = Metrics.Counter(label: "shoal_httpd_cache_hits_total")
    private let misses = Metrics.Counter(label: "shoal_httpd_cache_misses_total")
    private let open = Metrics.Gauge(label: "shoal_httpd_open_connections")
    private let ticks = Metrics.Counter(label: "shoal_reactor_ticks_total")
    private let systemCalls = Metrics.Counter(label: "shoal_reactor_system_calls_total")
    private let completions = Metrics.Counter(label: "shoal_reactor_io_completions_total")
    private let userSpaceCompletions = Metrics.Counter(label: "shoal_reactor_user_space_completions_total")
    private let blockingCalls = Metrics.Counter(label: "shoal_reactor_blocking_calls_total")
    private let stalls = Metrics.Counter(label: "shoal_reactor_stalls_total")

    private struct Snapshot {
        var requests = 0, bytes = 0, connections = 0, malformed = 0, timeouts = 0, hits = 0, misses = 0
    }

    init(registry: PrometheusCollectorRegistry?, counters: Counters, cache: FileCache, reactor: Reactor) {
        self.registry = registry
        self.counters = counters
        self.cache = cache
        self.reactor = reactor
    }

    /// Bootstraps swift-metrics with a Prometheus registry (once per process) and returns it.
    static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Sends what changed since the last report.
    func report() {
        let now = Snapshot(
            requests: counters.requests, bytes: counters.bytes, connections: counters.connections, malformed: counters.malformed,
            timeouts: counters.timeouts, hits: cache.hits, misses: cache.misses)
        func add(_ counter: Metrics.Counter, _ value: Int, _ before: Int) {
            if value > before { counter.increment(by: value - before) }
        }
        add(requests, now.requests, reported.requests)
        add(bytes, now.bytes, reported.bytes)
        add(connections, now.connections, reported.connections)
        add(malformed, now.malformed, reported.malformed)
        add(timeouts, now.timeouts, reported.timeouts)
        add(hits, now.hits, reported.hits)
        add(misses, now.misses, reported.misses)
        reported = now
        open.record(counters.open)
        let stats = reactor.stats
        add(ticks, stats.ticks, reportedStats.ticks)
        add(systemCalls, stats.systemCalls, reportedStats.systemCalls)
        add(completions, stats.completions, reportedStats.completions)
        add(userSpaceCompletions, stats.userSpaceCompletions, reportedStats.userSpaceCompletions)
        add(blockingCalls, stats.blockingCalls, reportedStats.blockingCalls)
        add(stalls, stats.stalls, reportedStats.stalls)
        reportedStats = stats
    }

    /// The Prometheus text exposition of everything, up to date; `nil` without `--metrics`.
    func exposition() -> [UInt8]? {
        guard let registry else { return nil }
        report()
        return registry.emitToBuffer()
    }
}
