import ExampleSupport
import ServiceLifecycle
import Shoal

/// shoal-httpd's server as a swift-service-lifecycle `Service`, for a program that runs
/// it in a `ServiceGroup` beside its other services: `run()` starts a reactor on its own
/// thread and serves until the group shuts down gracefully (then open connections get
/// the grace period, as at SIGTERM) or cancels it. The group owns the signals here; the
/// server watches none.
///
/// `shoal-httpd` itself does not run in a `ServiceGroup`: its reactor watches SIGINT and
/// SIGTERM itself, so that no signal thread runs beside the reactor and a second signal
/// ends the process at once.
struct FileServerService: Service {
    let server: HTTPServer
    let address: SocketAddress
    var reactorConfiguration = Reactor.Configuration()
    /// Learns the bound address (port 0 picks one), on the reactor thread.
    var onListening: @Sendable (SocketAddress) -> Void = { _ in }

    func run() async throws {
        let stop = StopRequest()
        let server = self.server
        let address = self.address
        let onListening = self.onListening
        try await withGracefulShutdownHandler {
            try await Reactor.run(configuration: reactorConfiguration) { reactor in
                try await server.run(on: address, reactor: reactor, watchesSignals: false, stop: stop, onListening: onListening)
            }
        } onGracefulShutdown: {
            stop.request()
        }
    }
}
