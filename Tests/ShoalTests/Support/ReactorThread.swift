import Shoal

/// Runs a reactor on a thread of its own (`try await Reactor.run`) and returns what
/// `body` returns. Assert on that, in the test.
func runReactor<T: Sendable>(
    configuration: Reactor.Configuration = Reactor.Configuration(),
    _ body: @escaping @Sendable (Reactor) async throws -> T
) async throws -> T {
    try await Reactor.run(configuration: configuration, body)
}
