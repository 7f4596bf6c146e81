import Shoal
import ShoalTestSupport

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

/// Runs a reactor on a plain thread (`Reactor.runOnCurrentThread`) and returns how long
/// the run took, measured on that thread: a liveness bound that does not depend on when
/// Swift's pool (busy with other tests) gets round to resuming the caller.
func timedReactorRun(
    configuration: Reactor.Configuration = Reactor.Configuration(),
    _ body: @escaping @Sendable (Reactor) async throws -> Void
) throws -> Duration {
    var configuration = configuration
    if configuration.logger.label == Reactor.Configuration().logger.label { configuration.logger.logLevel = .critical }
    let quiet = configuration
    let outcome = Shared<Result<Duration, any Error>>(.success(.zero))
    let thread = ThreadForTest {
        let start = ContinuousClock.now
        do {
            try Reactor.runOnCurrentThread(configuration: quiet, body)
            outcome.value = .success(start.duration(to: .now))
        } catch {
            outcome.value = .failure(error)
        }
    }
    thread.join()
    return try outcome.value.get()
}
