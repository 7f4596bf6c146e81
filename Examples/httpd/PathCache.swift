import Shoal
import Synchronization

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
/// What inotify cannot see (a write through a hard link from outside the root, a mount
/// over a directory, a replaced ancestor of the root, a write through a shared memory
/// mapping, a change made on another machine to a network file system) is seen within
/// ``validity``: no path is trusted longer. Only paths without symbolic links are
/// remembered (links are resolved afresh every time). At most ``watchLimit`` directories
/// are watched; paths through others are looked up every time. Reactor thread only,
/// except ``watch(_:)``, which the blocking-call thread calls.
final class PathCache: @unchecked Sendable {
    /// Paths remembered at most (then everything is forgotten and remembering restarts).
    static let capacity = 4_096
    /// Directories watched at most (inotify watches are a per-user resource).
    static let watchLimit = 4_096
    /// How long a remembered path is trusted without a look at the disk.
    static let validity: Duration = .seconds(1)

    /// What changed on disk, as inotify reported it.
    enum Change {
        /// These paths changed (written, renamed, created, deleted, permissions).
        case paths([String])
        /// Anything may have changed (a watched directory went, the queue overflowed).
        case everything
    }

    private let inotify: Int32
    private var entries: [String: (target: FileTarget, until: ContinuousClock.Instant)] = [:]
    /// The watches: each descriptor's directory, and each directory's descriptor
    /// (written on the blocking-call thread).
    private struct Watches {
        var directories: [Int32: String] = [:]
        var descriptors: [String: Int32] = [:]

        mutating func remove(_ descriptor: Int32) {
            if let directory = directories.removeValue(forKey: descriptor) { descriptors[directory] = nil }
        }
    }

    private let watched = Mutex(Watches())
    /// Changed paths past this many in one reading count as "everything".
    private static let changeLimit = 1_024
    /// Counts the times everything was forgotten: a lookup that began before a change
    /// must not store its result after it.
    private(set) var generation = 0
    /// Told of every change seen (the open-file cache closes what changed).
    var onChange: (Change) -> Void = { _ in }

    /// A cache that remembers nothing when inotify is not available.
    init() {
        inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
    }

    deinit {
        if inotify >= 0 { Glibc.close(inotify) }
    }

    /// Where `target` led, if remembered, nothing has changed since, and it is recent.
    func lookup(_ target: String) -> FileTarget? {
        guard inotify >= 0 else { return nil }
        readChanges()
        guard let entry = entries[target] else { return nil }
        guard ContinuousClock.now < entry.until else {
            entries[target] = nil
            return nil
        }
        return entry.target
    }

    /// Remembers a result found by a lookup that began at `generation`, unless a change
    /// was seen since.
    func store(_ result: FileTarget, for target: String, generation: Int) {
        guard inotify >= 0 else { return }
        readChanges()
        guard generation == self.generation else { return }
        if entries.count >= Self.capacity { entries = [:] }
        entries[target] = (result, ContinuousClock.now + Self.validity)
    }

    /// Watches `directory` for changes to itself and its entries; `false` when it cannot
    /// be watched (then what passes through it must not be remembered). Any thread.
    func watch(_ directory: String) -> Bool {
        guard inotify >= 0 else { return false }
        return watched.withLock { watched in
            // Watched already: nothing to do (and the limit is no reason to refuse it).
            if watched.descriptors[directory] != nil { return true }
            guard watched.directories.count < Self.watchLimit else { return false }
            let events =
                IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF
                | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW
            let descriptor = inotify_add_watch(inotify, directory, UInt32(events))
            guard descriptor >= 0 else { return false }
            // The same directory under another name (a link): one descriptor, the newer name.
            watched.remove(descriptor)
            watched.directories[descriptor] = directory
            watched.descriptors[directory] = descriptor
            return true
        }
    }

    /// Reads what inotify has queued; if anything, forgets every remembered path and
    /// tells ``onChange``.
    private func readChanges() {
        var changed: [String] = []
        var everything = false
        withUnsafeTemporaryAllocation(byteCount: 4_096, alignment: 8) { buffer in
            while true {
                let count = read(inotify, buffer.baseAddress, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return }
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let event = buffer.baseAddress!.advanced(by: offset).loadUnaligned(as: inotify_event.self)
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    offset = nameStart + Int(event.len)
                    if event.mask & UInt32(IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                        everything = true
                        // A directory that went or moved is watched again under its new
                        // name when a lookup passes through it.
                        if event.mask & UInt32(IN_MOVE_SELF) != 0 { inotify_rm_watch(inotify, event.wd) }
                        if event.mask & UInt32(IN_IGNORED) != 0 { watched.withLock { $0.remove(event.wd) } }
                        continue
                    }
                    guard !everything, let directory = watched.withLock({ $0.directories[event.wd] }) else { continue }
                    let name = UnsafeRawBufferPointer(rebasing: buffer[nameStart..<min(offset, count)]).prefix { $0 != 0 }
                    changed.append(directory + "/" + String(decoding: name, as: UTF8.self))
                    if changed.count > Self.changeLimit { everything = true }
                }
            }
        }
        guard everything || !changed.isEmpty else { return }
        entries = [:]
        generation += 1
        onChange(everything ? .everything : .paths(changed))
    }
}
