import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// Remembers where request paths lead, so a hot file is not looked up (`realpath`,
/// `stat`, a hop to the blocking-call thread) on every request, and is never served
/// stale: every directory a remembered path passes through is watched with inotify,
/// and any change in one of them (a write, a rename, a new file, a deletion, a change
/// of permissions) forgets everything remembered. The watches are in place before the
/// path is looked up, and pending changes are read before every lookup here, so a
/// change made before a request was sent is always seen by that request.
///
/// Only paths without symbolic links are remembered (links are resolved afresh every
/// time). Not seen: changes through a shared memory mapping and changes made on
/// another machine to a network file system. Reactor thread only, except
/// ``watch(_:)``, which the blocking-call thread calls.
final class PathCache: @unchecked Sendable {
    /// Paths remembered at most (then everything is forgotten and remembering restarts).
    static let capacity = 4_096

    private let inotify: Int32
    private var entries: [String: FileTarget] = [:]
    /// Counts the times everything was forgotten: a lookup that began before a change
    /// must not store its result after it.
    private(set) var generation = 0

    /// A cache that remembers nothing when inotify is not available.
    init() {
        inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
    }

    deinit {
        if inotify >= 0 { Glibc.close(inotify) }
    }

    /// Where `target` led, if remembered and nothing has changed since.
    func lookup(_ target: String) -> FileTarget? {
        guard inotify >= 0, !entries.isEmpty else { return nil }
        if changesPending() { forget() }
        return entries[target]
    }

    /// Remembers a result found by a lookup that began at `generation`, unless a change
    /// was seen since.
    func store(_ result: FileTarget, for target: String, generation: Int) {
        guard inotify >= 0, generation == self.generation else { return }
        if changesPending() {
            forget()
            return
        }
        if entries.count >= Self.capacity { entries = [:] }
        entries[target] = result
    }

    /// Watches `directory` for changes to itself and its entries; `false` when it cannot
    /// be watched (then what passes through it must not be remembered). Any thread.
    func watch(_ directory: String) -> Bool {
        guard inotify >= 0 else { return false }
        let events =
            IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
            | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW
        return inotify_add_watch(inotify, directory, UInt32(events)) >= 0
    }

    /// Reads what inotify has queued; whether anything was (a full queue counts).
    private func changesPending() -> Bool {
        withUnsafeTemporaryAllocation(byteCount: 4_096, alignment: 8) { buffer in
            var any = false
            while true {
                let count = read(inotify, buffer.baseAddress, buffer.count)
                if count > 0 {
                    any = true
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return any
                }
            }
        }
    }

    private func forget() {
        entries = [:]
        generation += 1
    }
}
