import Metrics
import Prometheus
import Shoal

/// The server's counters and the reactor's, exported through swift-metrics: whatever
/// backend the process bootstrapped receives them (none: they go nowhere). With
/// `--metrics`, shoal-httpd bootstraps a Prometheus registry and answers `GET /metrics`
/// with its text format.
///
/// The request path only bumps plain integers (``Counters``); the metrics receive the
/// difference since the last report at every `/metrics` request and at shutdown, and
/// once a second when the process bootstrapped a backend of its own (one that is not
/// scraped here), so exporting costs nothing per request. Reactor thread only.
final class ServerMetrics: @unchecked Sendable {
    /// The registry `/metrics` reads, when `--metrics` bootstrapped one.
    let registry: PrometheusCollectorRegistry?

    private let counters: Counters
    private let open = Metrics.Gauge(label: "shoal_httpd_open_connections")
    /// Each counter, where its value comes from, and the value last reported.
    private var sources: [(counter: Metrics.Counter, value: () -> Int, reported: Int)]

    init(registry: PrometheusCollectorRegistry?, counters: Counters, cache: FileCache, reactor: Reactor) {
        self.registry = registry
        self.counters = counters
        let values: [(String, () -> Int)] = [
            ("shoal_httpd_requests_total", { counters.requests }),
            ("shoal_httpd_sent_bytes_total", { counters.bytes }),
            ("shoal_httpd_connections_total", { counters.connections }),
            ("shoal_httpd_malformed_requests_total", { counters.malformed }),
            ("shoal_httpd_timeouts_total", { counters.timeouts }),
            ("shoal_httpd_cache_hits_total", { cache.hits }),
            ("shoal_httpd_cache_misses_total", { cache.misses }),
            ("shoal_reactor_ticks_total", { reactor.stats.ticks }),
            ("shoal_reactor_system_calls_total", { reactor.stats.systemCalls }),
            ("shoal_reactor_io_completions_total", { reactor.stats.completions }),
            ("shoal_reactor_user_space_completions_total", { reactor.stats.userSpaceCompletions }),
            ("shoal_reactor_blocking_calls_total", { reactor.stats.blockingCalls }),
            ("shoal_reactor_stalls_total", { reactor.stats.stalls }),
        ]
        sources = values.map { (Metrics.Counter(label: $0.0), $0.1, 0) }
    }

    /// Bootstraps swift-metrics with a Prometheus registry (once per process) and returns it.
    static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Whether reports should also go out once a second: a backend other than ours
    /// (which is read at `/metrics`) was bootstrapped.
    var reportsPeriodically: Bool {
        registry == nil && !(MetricsSystem.factory is NOOPMetricsHandler)
    }

    /// Reports once a second until the reactor shuts down or the task is cancelled.
    func reportEverySecond(on reactor: Reactor) async {
        while !reactor.isShuttingDown, (try? await reactor.sleep(for: .seconds(1))) != nil {
            report()
        }
    }

    /// Sends what changed since the last report.
    func report() {
        for index in sources.indices {
            let value = sources[index].value()
            if value > sources[index].reported { sources[index].counter.increment(by: value - sources[index].reported) }
            sources[index].reported = value
        }
        open.record(counters.open)
    }

    /// The Prometheus text exposition of everything, up to date; `nil` without `--metrics`.
    func exposition() -> [UInt8]? {
        guard let registry else { return nil }
        report()
        return registry.emitToBuffer()
    }
}
