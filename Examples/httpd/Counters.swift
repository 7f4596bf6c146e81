import ExampleSupport
import ShoalHTTP

/// The server's counters, kept on the reactor thread; printed at shutdown.
final class Counters: @unchecked Sendable {
    var connections = 0
    /// Connections open now.
    var open = 0
    var requests = 0
    var bytes = 0
    var malformed = 0
    var timeouts = 0
    /// A signal came: responses say `Connection: close`, and no connection waits for
    /// another request.
    var draining = false {
        didSet {
            // Connections waiting for their next request end now, not at the grace period's end.
            if draining { for task in idle.values { task.cancel() } }
        }
    }
    /// Handler tasks waiting for a new request (reactor thread only; each removes itself
    /// before its wait ends, so every one here is alive).
    private var idle: [Int: UnsafeCurrentTask] = [:]
    private var lastIdleID = 0

    /// Records the calling task as waiting for a new request, until `endIdle`.
    func beginIdle() -> Int {
        lastIdleID += 1
        let id = lastIdleID
        withUnsafeCurrentTask { task in if let task { idle[id] = task } }
        return id
    }

    func endIdle(_ id: Int) {
        idle[id] = nil
    }

    /// One access-log line, when there is a log.
    func log(_ accessLog: AccessLog?, peer: String, head: HTTPRequestHead?, status: Int, bytes: Int) {
        guard let accessLog else { return }
        if let head {
            accessLog.record(
                peer: peer, method: head.request.method.rawValue, target: head.request.path ?? "", version: head.version.description,
                status: status, bytes: bytes)
        } else {
            accessLog.recordUnreadable(peer: peer, status: status, bytes: bytes)
        }
    }

    var summary: String {
        "connections \(connections), requests \(requests), bytes sent \(bytes), malformed \(malformed), timeouts \(timeouts)"
    }
}
