import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM turned into a flag the copy checks, so an interrupted copy still
/// removes its temporary file.
enum Interruption {
    private static let raised = Atomic<Bool>(false)

    /// Installs the handlers; returns a function that says whether a signal came.
    static func watch() -> @Sendable () -> Bool {
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in Interruption.raised.store(true, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            // A second signal is not caught: it ends the process at once.
            action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND))
            sigaction(signal, &action, nil)
        }
        return { raised.load(ordering: .relaxed) }
    }
}
