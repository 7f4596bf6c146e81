import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM turned into a flag the copy checks, so an interrupted copy still
/// removes its temporary file. A second signal ends the process at once, the usual
/// way, but removes the temporary file first (from the handler: `unlink` is safe there).
enum Interruption {
    private static let raised = Atomic<Bool>(false)
    /// The address of the temporary file's path (a C string that lives until the process
    /// ends), once made; 0 before.
    private static let temporary = Atomic<UInt>(0)

    /// Installs the handlers; returns a function that says whether a signal came.
    static func watch() -> @Sendable () -> Bool {
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                guard Interruption.raised.exchange(true, ordering: .relaxed) else { return }
                if let path = UnsafeMutablePointer<CChar>(bitPattern: Interruption.temporary.load(ordering: .acquiring)),
                    path.pointee != 0
                {
                    unlink(path)
                }
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
            }
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
        return { raised.load(ordering: .relaxed) }
    }

    /// The temporary file a second signal removes (once created; `""` once renamed).
    static func removeOnSecondSignal(_ path: String) {
        temporary.store(UInt(bitPattern: strdup(path)), ordering: .releasing)
    }
}
