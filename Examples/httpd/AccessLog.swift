import ShoalHTTP
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The access log: one line per response, written to standard output by a thread of its
/// own, so that a reader that stops reading (a full pipe) never blocks the reactor. At
/// most ``bufferLimit`` bytes wait; lines past that are dropped and counted.
///
/// A line: `PEER - - [01/Dec/2026:21:29:14 +0000] "GET /path HTTP/1.1" 200 1234`, the
/// request line with `"`, `\`, control and non-ASCII bytes written as `\xHH`.
final class AccessLog: @unchecked Sendable {
    /// Bytes of lines waiting at most.
    static let bufferLimit = 4 << 20

    private struct State {
        var waiting: [UInt8] = []
        var dropped = 0
        var finished = false
        var writerDone = false
    }

    private let state = Mutex(State())
    private let wakeUp: UnsafeMutablePointer<sem_t>

    init() {
        wakeUp = .allocate(capacity: 1)
        sem_init(wakeUp, 0, 0)
        let writer = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { argument in
                let log = Unmanaged<AccessLog>.fromOpaque(argument!).takeRetainedValue()
                log.writeUntilFinished()
                return nil
            }, writer)
        precondition(created == 0, "pthread_create failed: \(created)")
        pthread_detach(thread)
    }

    deinit {
        sem_destroy(wakeUp)
        wakeUp.deallocate()
    }

    /// Logs one response (reactor thread; never blocks).
    func record(peer: String, method: String, target: String, version: String, status: Int, bytes: Int) {
        var line = Array(peer.utf8) + Array(" - - [".utf8) + Array(Self.now().utf8) + Array("] \"".utf8)
        Self.escape(method, into: &line)
        line.append(UInt8(ascii: " "))
        Self.escape(target, into: &line)
        line += Array(" \(version)\" \(status) \(bytes)\n".utf8)
        append(line)
    }

    /// Logs a response to a request that could not be read.
    func recordUnreadable(peer: String, status: Int, bytes: Int) {
        append(Array("\(peer) - - [\(Self.now())] \"-\" \(status) \(bytes)\n".utf8))
    }

    /// Waits at most `timeout` for the waiting lines to be written; returns how many lines
    /// were dropped in all.
    func finish(timeout: Duration) -> Int {
        state.withLock { $0.finished = true }
        sem_post(wakeUp)
        let deadline = ContinuousClock.now + timeout
        while !state.withLock({ $0.writerDone }) && ContinuousClock.now < deadline { usleep(1_000) }
        return state.withLock { $0.dropped + ($0.writerDone ? 0 : $0.waiting.count { $0 == UInt8(ascii: "\n") }) }
    }

    private func append(_ line: [UInt8]) {
        let wasEmpty = state.withLock { state -> Bool? in
            guard !state.finished, state.waiting.count + line.count <= Self.bufferLimit else {
                state.dropped += 1
                return nil
            }
            defer { state.waiting += line }
            return state.waiting.isEmpty
        }
        if wasEmpty == true { sem_post(wakeUp) }
    }

    private func writeUntilFinished() {
        while true {
            while sem_wait(wakeUp) != 0 && errno == EINTR {}
            let (lines, finished) = state.withLock { state in
                defer { state.waiting = [] }
                return (state.waiting, state.finished)
            }
            var offset = 0
            while offset < lines.count {
                let written = lines.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress! + offset, lines.count - offset) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    // The reader went away (EPIPE: SIGPIPE is ignored) or the disk is full:
                    // what did not go out is counted as dropped.
                    let lost = lines[offset...].count { $0 == UInt8(ascii: "\n") }
                    state.withLock { $0.dropped += lost }
                    break
                }
                offset += written
            }
            if finished && state.withLock({ $0.waiting.isEmpty }) {
                state.withLock { $0.writerDone = true }
                return
            }
        }
    }

    /// Escapes what could break a line or fake a field.
    private static func escape(_ text: String, into line: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                line += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            } else {
                line.append(byte)
            }
        }
    }

    /// `01/Dec/2026:21:29:14 +0000`, rearranged from the `Date` field's text of now
    /// (`Tue, 01 Dec 2026 21:29:14 GMT`, which ShoalHTTP formats once a second).
    private static func now() -> String {
        let fields = HTTPDate.now().split(separator: " ")
        guard fields.count == 6 else { return "-" }
        return "\(fields[1])/\(fields[2])/\(fields[3]):\(fields[4]) +0000"
    }
}
