import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Shoal
import ShoalTestSupport
import Synchronization
import Testing

@testable import ShoalHTTPD

#if canImport(Glibc)
import Glibc
#endif

@Suite("shoal-httpd's server as a swift-service-lifecycle Service")
struct FileServerServiceTests {
    @Test(
        "in a ServiceGroup: serves; reports to the process's metrics backend; a graceful shutdown lets a download in flight finish, refuses new connections, and ends the group"
    )
    func gracefulShutdownFromTheGroup() async throws {
        // The process's own backend (the only bootstrap in this test process): the server
        // reports to it once a second.
        let backend = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: backend))
        let root = try site("httpd-service")
        defer { _ = try? run("rm", ["-rf", root]) }
        let bytes = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ $0 >> 12) }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/large.bin"))
        let configuration = ServerConfiguration(
            root: try #require(realPath(root)), idleTimeout: .seconds(30), headerTimeout: .seconds(10), writeTimeout: .seconds(30),
            accessLog: nil, cacheSize: 0)
        let port = Mutex<UInt16>(0)
        let service = FileServerService(
            server: HTTPServer(configuration: configuration, maxConnections: 100, gracePeriod: .seconds(20), registry: nil),
            address: try SocketAddress("127.0.0.1:0"),
            onListening: { address in port.withLock { $0 = address.port } })
        var groupConfiguration = ServiceGroupConfiguration(services: [service], logger: Logger(label: "test"))
        // Bounds the test if the service ignored the graceful shutdown: then it is cancelled.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(60)
        let group = ServiceGroup(configuration: groupConfiguration)
        let running = Task { try await group.run() }
        var waited = 0
        while port.withLock({ $0 }) == 0 && waited < 3_000 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        let bound = port.withLock { $0 }
        try #require(bound != 0)
        // A download begins and reads only its head before the shutdown.
        let client = try TestClient(port: bound)
        try client.send(Array("GET /large.bin HTTP/1.1\r\nHost: test\r\n\r\n".utf8))
        let head = try fetchHead(client)
        #expect(String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        var reported = false
        for _ in 0..<1_000 where !reported {
            reported = backend.emitToString().contains("shoal_httpd_requests_total 1\n")
            if !reported { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(reported, "\(backend.emitToString())")
        await group.triggerGracefulShutdown()
        // New connections are refused once the listener has closed.
        var refused = false
        for _ in 0..<300 where !refused {
            refused = (try? TestClient(port: bound)) == nil
            if !refused { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(refused)
        // The download in flight completes, and the group ends.
        let body = try client.receive(count: bytes.count)
        #expect(body == bytes)
        client.close()
        try await running.value
    }
}
