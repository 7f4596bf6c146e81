import Shoal

/// Runs a reactor on a thread of its own (`try await Reactor.run`) and returns what
/// `body` returns. Assert on that, in the test.
/// The reactor's own warnings (stalls of a descheduled test, grace periods that tests
/// run out on purpose) are kept quiet unless the test set a logger of its own.
func runReactor<T: Sendable>(
    configuration: Reactor.Configuration = Reactor.Configuration(),
    _ body: @escaping @Sendable (Reactor) async throws -> T
) async throws -> T {
    var configuration = configuration
    if configuration.logger.label == Reactor.Configuration().logger.label { configuration.logger.logLevel = .critical }
    return try await Reactor.run(configuration: configuration, body)
}
